"""Session (xvii), a prototype (no library change): the realism critic's choice among K prior
samples weighted also by the model's own emotion classifier E: candidate k of a melody asked for
quadrant q is kept with probability softmax_k(critic logit_k + W * log p_E(q | candidate k)).
W 0 is the shipped choice. With PLAN=C in the environment, the 4-bar sections follow
session (xvi)'s AABB form plan (form_plan_prototype.py) at correlation C.
  W=1 PYTHONPATH=. .venv/bin/python docs/results/issue19_session_xvii/scripts/emotion_weighted_choice.py \
      --pretrained=jsb_chorales --cache=CACHE --split=valid ...
"""
import os
import pathlib
import sys

import numpy as np

from hrnnvae import realism_critic
from hrnnvae import sample as sample_lib
from launch import sampling_sweep

if os.environ.get("PLAN"):
  sys.path.insert(0, str(pathlib.Path(__file__).parents[2] / "issue19_session_xvi" / "scripts"))
  sys.argv.insert(1, os.environ["PLAN"])
  import form_plan_prototype  # noqa: F401 - wraps Sampler.prior; pops C from argv

WEIGHT = float(os.environ.get("W", "0"))
_log_ratios = realism_critic.log_ratios
_sample = sample_lib.Sampler.sample
_current = []


def _weighted_log_ratios(params, events_BxT, emotions_B, *reads):
  ratios = _log_ratios(params, events_BxT, emotions_B, *reads)
  if WEIGHT:
    probs = _current[-1].classify(np.asarray(events_BxT))
    ratios = ratios + WEIGHT * np.log(probs[np.arange(len(probs)), np.asarray(emotions_B)] + 1e-9)
  return ratios


def _sample_weighted(self, *args, **kwargs):
  _current.append(self)
  try:
    return _sample(self, *args, **kwargs)
  finally:
    _current.pop()


realism_critic.log_ratios = _weighted_log_ratios
sample_lib.Sampler.sample = _sample_weighted
if __name__ == "__main__":
  sampling_sweep.app.run(sampling_sweep.main)
