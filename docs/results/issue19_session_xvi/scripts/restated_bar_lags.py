"""Session (xvi): how far back the JSB chorales restate a bar. For each 16-bar span of a split
(realism.real_tunes, as the sweeps read them), each whole bar after the first that holds an onset
and equals an earlier bar exactly (metrics.melody.bar_repetition_rate's rule) is counted at the
lag of its nearest match.
  PYTHONPATH=. .venv/bin/python docs/results/issue19_session_xvi/scripts/restated_bar_lags.py CACHE
"""
import collections
import sys

import numpy as np

from hrnnvae import judge
from hrnnvae.data import cache
from hrnnvae.data import events as events_lib
from hrnnvae.evaluation import realism

arrays, manifest = cache.load(sys.argv[1])
thresholds = judge.thresholds_of(manifest)
spb = 16
for split in ("train", "valid", "test"):
  real = realism.real_tunes(arrays, 16, spb, thresholds, split=split)
  lags, counted, restated = collections.Counter(), 0, 0
  for melody in real.events:
    melody = np.asarray(melody)
    bars = melody[:len(melody) // spb * spb].reshape(-1, spb)
    for index in range(1, len(bars)):
      if (bars[index] >= events_lib.FIRST_PITCH_EVENT).any():
        counted += 1
        matches = [index - j for j in range(index) if (bars[j] == bars[index]).all()]
        if matches:
          restated += 1
          lags[min(matches)] += 1
  print(f"{split}: {len(real.events)} spans, bar repetition {restated / counted:.3f}, "
        f"nearest restated bar by lag: {dict(sorted(lags.items()))}")
