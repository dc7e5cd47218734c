# Session (xxxvi): run from the repository root (PYTHONPATH=. .venv/bin/python THIS): feature
# shares of the 944 training spans of 32 bars, overall, per quadrant and balanced.
import numpy as np
from hrnnvae import judge
from hrnnvae.data import cache as cache_lib
from hrnnvae.evaluation import realism
arrays, manifest = cache_lib.load("runs/nott_data")
th = judge.thresholds_of(manifest)
real = realism.real_tunes(arrays, 32, 16, th, "train")
names = realism.feature_names(16)
cols = realism.feature_columns(real.events, 16, ["pitch_class/degree 8", "major/major", "repetition/4-gram repetition", "note_length/16 steps"])
for name, v in cols.items():
  per = [float(v[real.quadrants == q].mean()) for q in range(4)]
  print(name, "all %.3f" % v.mean(), "per quadrant h,t,s,c", np.round(per, 3), "balanced %.3f" % np.mean(per))
print(np.bincount(real.quadrants, minlength=4))
