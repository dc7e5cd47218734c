"""Session (xvii), a prototype (no library change): a prior sample written in sections whose
latents follow a form plan, a string of letters, one a section ("AABB", "AABA"): a section whose
letter came before restates that section's latent; a new letter's latent is drawn correlated C
with the latent of the letter before it in the plan's order of first appearance (each latent
keeps the prior's distribution). Sections past the plan's end repeat it. Sampler.prior is wrapped
so that the sweep's section correlation 0.123 means the plan; the rest is launch/sampling_sweep.py.
  PYTHONPATH=. .venv/bin/python docs/results/issue19_session_xvii/scripts/form_plan.py AABB 0.3 \
      --pretrained=nottingham ... --section_bars=8 --section_correlations=0.123
"""
import sys

import jax
import numpy as np

from hrnnvae import sample as sample_lib
from launch import sampling_sweep

SENTINEL = 0.123
_prior = sample_lib.Sampler.prior


def plan_noises(normal, keys, plan: str, sections: int, correlation: float) -> list:
  """The standard-normal noise [count, Z] of each of `sections` sections under `plan`."""
  letters = [plan[s % len(plan)] for s in range(sections)]
  by_letter, order = {}, []
  for section, letter in enumerate(letters):
    if letter in by_letter:
      continue
    if not order:
      by_letter[letter] = normal(keys)
    else:
      own = normal(jax.vmap(lambda k, s=section: jax.random.fold_in(k, sample_lib.SECTION_KEYS + s))(keys))
      by_letter[letter] = correlation * by_letter[order[-1]] + np.sqrt(1 - correlation ** 2) * own
    order.append(letter)
  return [by_letter[letter] for letter in letters]


def _planned_prior(self, count, seed, emotions=None, candidate=0, sections=1, correlation=0.0,
                   repeats=1):  # repeats: Sampler.prior's since (xvii)'s section_repeats
  if correlation != SENTINEL or sections == 1:
    return _prior(self, count, seed, emotions, candidate, sections, correlation, repeats)
  keys = self._keys(seed, count, "latent", candidate=candidate)

  def normal(keys):
    return np.array(jax.vmap(lambda k: jax.random.normal(k, (self.hp.latent_size,)))(keys))

  noises = plan_noises(normal, keys, PLAN, sections, PLAN_CORRELATION)
  latents = [self._prior_latents(noise.astype(np.float32), keys, emotions) for noise in noises]
  return np.stack(latents, axis=1)


PLAN = sys.argv.pop(1)
PLAN_CORRELATION = float(sys.argv.pop(1))
sample_lib.Sampler.prior = _planned_prior
if __name__ == "__main__":
  sampling_sweep.app.run(sampling_sweep.main)
