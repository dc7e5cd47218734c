"""Session (xix): 16-bar prior samples of a JSB model (seed 0, its own sampling: one asked for each
quadrant) drawn under a test chorale span the judge gives that quadrant, one pair per quadrant.
  PYTHONPATH=. .venv/bin/python docs/results/issue19_session_xix/scripts/rolls_beside_real.py \
      MODEL CACHE OUT.png [BARS]
MODEL: a shipped name or a training run's folder."""
import pathlib
import sys

import numpy as np

from hrnnvae import judge, pretrained, render
from hrnnvae.data import cache as cache_lib
from hrnnvae.data import emotion as emotion_lib
from hrnnvae.evaluation import realism

model, cache, out = sys.argv[1:4]
bars = int(sys.argv[4]) if len(sys.argv) > 4 else 16
sampler = pretrained.load_model(model)
arrays, manifest = cache_lib.load(cache)
spb = sampler.steps_per_bar
real = realism.real_tunes(arrays, bars, spb, judge.thresholds_of(manifest), split="test")
samples = sampler.sample(list(range(4)), bars, 0)
melodies, titles = [], []
for quadrant, name in enumerate(emotion_lib.EMOTIONS):
  first = int(np.flatnonzero(real.quadrants == quadrant)[0])
  melodies += [real.events[first], samples[quadrant].events]
  titles += [f"test chorale {real.groups[first]} ({name} by the judge)", f"{model}: asked {name}"]
render.write_piano_rolls(melodies, titles, pathlib.Path(out), spb)
