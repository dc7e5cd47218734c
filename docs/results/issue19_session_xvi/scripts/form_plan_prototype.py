"""Session (xvi), a prototype (no library change): 4-bar sections whose latents follow a form
plan, AABB, instead of one correlation: section 1 restates section 0's latent (c 1), section 2 is
drawn correlated C with section 1, section 3 restates section 2. Sampler.prior is wrapped so that
the sweep's correlation SENTINEL means that plan; the rest is launch/sampling_sweep.py.
  PYTHONPATH=. .venv/bin/python docs/results/issue19_session_xvi/scripts/form_plan_prototype.py \
      C --pretrained=jsb_chorales --cache=CACHE --split=valid ... --section_correlations=0.123
"""
import sys

import jax
import numpy as np

from hrnnvae import sample as sample_lib
from launch import sampling_sweep

SENTINEL = 0.123
_prior = sample_lib.Sampler.prior


def _planned_prior(self, count, seed, emotions=None, candidate=0, sections=1, correlation=0.0):
  if correlation != SENTINEL or sections == 1:
    return _prior(self, count, seed, emotions, candidate, sections, correlation)
  keys = self._keys(seed, count, "latent", candidate=candidate)

  def normal(keys):
    return np.array(jax.vmap(lambda k: jax.random.normal(k, (self.hp.latent_size,)))(keys))

  noises = [normal(keys)]
  for section in range(1, sections):
    if section % 2:  # A A, B B: the section restates the one before
      noises.append(noises[-1])
      continue
    own = normal(jax.vmap(lambda k, s=section: jax.random.fold_in(k, sample_lib.SECTION_KEYS + s))(keys))
    noises.append(PLAN_CORRELATION * noises[-1] + np.sqrt(1.0 - PLAN_CORRELATION ** 2) * own)
  latents = [self._prior_latents(noise.astype(np.float32), keys, emotions) for noise in noises]
  return np.stack(latents, axis=1)


PLAN_CORRELATION = float(sys.argv.pop(1))
sample_lib.Sampler.prior = _planned_prior
if __name__ == "__main__":
  sampling_sweep.app.run(sampling_sweep.main)
