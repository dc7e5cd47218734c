"""Prototype: SIR weight = critic logit + gamma * log p_E(requested | x), every quadrant resampled."""
import os, sys
import numpy as np
sys.path.insert(0, "launch")
from hrnnvae import realism_critic
from hrnnvae import sample as sample_lib
GAMMA = float(os.environ["GAMMA"]); BETA = float(os.environ.get("BETA", "1"))
ALL = os.environ.get("ALL", "1") == "1"
holder = {}
orig_load = sample_lib.Sampler.load.__func__
def load(cls, d):
  s = orig_load(cls, d); holder["s"] = s; return s
sample_lib.Sampler.load = classmethod(load)
orig_ratios = realism_critic.log_ratios
def ratios(params, events, emotions):
  r = BETA * orig_ratios(params, events, emotions)
  if GAMMA:
    p = holder["s"].classify(events)
    r = r + GAMMA * np.log(p[np.arange(len(p)), np.asarray(emotions)] + 1e-6)
  return r
realism_critic.log_ratios = ratios
if ALL:
  realism_critic.resampled = lambda description, n: list(range(n))
import sampling_sweep
from absl import app
app.run(sampling_sweep.main)
