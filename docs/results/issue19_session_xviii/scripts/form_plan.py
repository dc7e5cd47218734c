"""Session (xviii), a prototype (no library change): (xvii)'s form plan (a string of letters,
one a section; a letter seen before restates that section's latent, a new letter's latent is
drawn correlated C with the letter before it in the plan's order of first appearance), with
Sampler.prior's `repeats` argument of today. For the chorales' bar form: "AABC" in 4-bar
sections (the Stollen stated twice, then the Abgesang's two new phrases). The sweep's section
correlation 0.123 means the plan; the rest is launch/sampling_sweep.py.
  PYTHONPATH=. .venv/bin/python docs/results/issue19_session_xviii/scripts/form_plan.py AABC 0.7 \
      --pretrained=jsb_chorales ... --section_bars=4 --section_correlations=0.123
"""
import importlib.util
import pathlib
import sys

import jax
import numpy as np

from hrnnvae import sample as sample_lib
from launch import sampling_sweep

_argv = list(sys.argv)
sys.argv[1:1] = ["A", "0"]  # xvii's script pops its own two arguments at import
_spec = importlib.util.spec_from_file_location(
    "xvii_form_plan", pathlib.Path(__file__).parents[2] / "issue19_session_xvii" / "scripts" / "form_plan.py")
xvii_plan = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(xvii_plan)
sys.argv = _argv

SENTINEL = 0.123
_prior = xvii_plan._prior


def _planned_prior(self, count, seed, emotions=None, candidate=0, sections=1, correlation=0.0,
                   repeats=1):
  if correlation != SENTINEL or sections == 1:
    return _prior(self, count, seed, emotions, candidate, sections, correlation, repeats)
  keys = self._keys(seed, count, "latent", candidate=candidate)

  def normal(keys):
    return np.array(jax.vmap(lambda k: jax.random.normal(k, (self.hp.latent_size,)))(keys))

  noises = xvii_plan.plan_noises(normal, keys, PLAN, sections, PLAN_CORRELATION)
  latents = [self._prior_latents(noise.astype(np.float32), keys, emotions) for noise in noises]
  return np.stack(latents, axis=1)


PLAN = sys.argv.pop(1)
PLAN_CORRELATION = float(sys.argv.pop(1))
sample_lib.Sampler.prior = _planned_prior
if __name__ == "__main__":
  sampling_sweep.app.run(sampling_sweep.main)
