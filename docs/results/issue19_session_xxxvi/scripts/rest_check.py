# Session (xxxvi): the training spans' rests: how many rest, where their note-offs sit.
import numpy as np
from hrnnvae import judge
from hrnnvae.data import cache as cache_lib, events as ev
from hrnnvae.evaluation import realism
arrays, manifest = cache_lib.load("runs/nott_data")
real = realism.real_tunes(arrays, 32, 16, judge.thresholds_of(manifest), "train")
cols = realism.feature_columns(real.events, 16, ["rest_share/rest share"])["rest_share/rest share"]
print("real rest share mean %.4f, share of spans with any rest %.3f, median among those %.4f" % (cols.mean(), (cols > 0).mean(), np.median(cols[cols > 0])))
offs = (real.events == ev.NOTE_OFF).mean(1)
print("note-off share mean %.4f" % offs.mean())
# where do rests sit: step in bar of note-offs
pos = np.nonzero(real.events == ev.NOTE_OFF)
print("note-off bar positions", np.bincount(pos[1] % 16, minlength=16))
print("note-off bar index", np.bincount(pos[1] // 16, minlength=32))
