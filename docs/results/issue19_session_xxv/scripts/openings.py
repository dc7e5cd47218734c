"""Session (xxv): can the features classifier tell real spans that open a chorale (start_bar 0)
from real spans that start later? If so, samples (which always open) would be told from the
real side partly by that. Run on the prepared JSB cache:

  PYTHONPATH=. python docs/results/issue19_session_xxv/scripts/openings.py runs/jsb_data 8
"""
import sys

import numpy as np

from hrnnvae import judge
from hrnnvae.data import cache as cache_lib
from hrnnvae.evaluation import realism

cache, bars = sys.argv[1], int(sys.argv[2])
arrays, manifest = cache_lib.load(cache)
th = judge.thresholds_of(manifest)
for split in ("test", "valid"):
  spb = 16
  rows = realism.split_rows(arrays, split, spb)
  real = realism.real_tunes(arrays, bars, spb, th, split=split)
  # realism.real_tunes' rule again, to know each kept span's start bar
  window_bars = int(arrays["lengths"][rows].max()) // spb
  kept = []
  where = {(arrays["piece"][r], arrays["segment"][r], arrays["start_bar"][r]): r for r in rows}
  for row in rows:
    piece, seg, start = (int(arrays[k][row]) for k in ("piece", "segment", "start_bar"))
    covered, cur = 0, row
    while cur is not None and covered < bars:
      need = min(window_bars, bars - covered) * spb
      if arrays["lengths"][cur] < need:
        break
      covered += need // spb
      cur = where.get((piece, seg, start + covered))
    if covered == bars:
      kept.append(start)
  kept = np.array(kept)
  assert len(kept) == len(real.events)
  opening = kept == 0
  print(split, "spans", len(kept), "openings", opening.sum())
  a, b = real.subset(opening), real.subset(~opening)
  acc = [realism.compare(a, b, spb, seed, ("features",))["features"].mean() for seed in range(3)]
  print(" openings vs later spans (features):", np.round(acc, 3), np.mean(acc))
