"""Session (xvii), a prototype (no library change): emotion guidance per requested quadrant.
Sampler.sample is wrapped so that the melodies asked for quadrant q are drawn (in one call per
quadrant, so their noise keys differ from one call's) at guidance G_q; the rest is
launch/sampling_sweep.py (pass --guidances=1 so the sweep leaves the wrapper's in force).
  PYTHONPATH=. .venv/bin/python docs/results/issue19_session_xvii/scripts/quadrant_guidance.py \
      1.75,1.5,1.5,1.75 --pretrained=jsb_chorales ... --guidances=1
"""
import sys

import numpy as np

from hrnnvae import sample as sample_lib
from launch import sampling_sweep

GUIDANCES = [float(g) for g in sys.argv.pop(1).split(",")]
_sample = sample_lib.Sampler.sample


def _by_quadrant(self, emotions, bars, seed, *args, **kwargs):
  emotions = list(emotions)
  out = [None] * len(emotions)
  own = self.emotion_guidance
  try:
    for quadrant in sorted(set(emotions)):
      rows = [i for i, e in enumerate(emotions) if e == quadrant]
      self.emotion_guidance = GUIDANCES[quadrant]
      for row, melody in zip(rows, _sample(self, [quadrant] * len(rows), bars, seed * 10 + quadrant,
                                           *args, **kwargs)):
        out[row] = melody
  finally:
    self.emotion_guidance = own
  assert all(m is not None for m in out) and np.all([m.emotion for m in out] == np.array(emotions))
  return out


sample_lib.Sampler.sample = _by_quadrant
if __name__ == "__main__":
  sampling_sweep.app.run(sampling_sweep.main)
