"""Session (xvii): what gives one quadrant's samples away: realism.what_gives_them_away on the
samples asked for that quadrant (the model's own sampling, seeds 0-2, N an emotion) against the
real spans of SPLITS the judge labels with it (several splits pooled: few real spans are tense).
  PYTHONPATH=. .venv/bin/python docs/results/issue19_session_xvii/scripts/quadrant_giveaway.py \
      MODEL CACHE BARS SPLITS(valid,test) [N]
"""
import sys

import numpy as np

from hrnnvae import judge, pretrained
from hrnnvae.data import cache as cache_lib
from hrnnvae.data import emotion as emotion_lib
from hrnnvae.evaluation import realism

model, cache, bars, splits = sys.argv[1:5]
count = int(sys.argv[5]) if len(sys.argv) > 5 else 64
bars = int(bars)
sampler = pretrained.load_model(model)
arrays, manifest = cache_lib.load(cache)
thresholds = judge.thresholds_of(manifest)
spb = sampler.steps_per_bar
reals = [realism.real_tunes(arrays, bars, spb, thresholds, split=s) for s in splits.split(",")]
real = realism.Melodies(np.concatenate([r.events for r in reals]),
                        np.concatenate([r.groups for r in reals]),
                        np.concatenate([r.quadrants for r in reals]))
samples, requested = [], []
for seed in range(3):
  for quadrant in range(4):
    melodies = sampler.sample([quadrant] * count, bars, seed)
    samples += [m.events for m in melodies]
    requested += [quadrant] * count
generated = realism.generated_melodies(samples, requested)
for quadrant, name in enumerate(emotion_lib.EMOTIONS):
  mine = generated.quadrants == quadrant
  theirs = real.quadrants == quadrant
  side = realism.Melodies(generated.events[mine], generated.groups[mine], generated.quadrants[mine])
  other = realism.Melodies(real.events[theirs], real.groups[theirs], real.quadrants[theirs])
  print(f"{name}: {int(mine.sum())} samples against {int(theirs.sum())} real spans "
        f"({len(np.unique(other.groups))} tunes)", flush=True)
  for row in realism.what_gives_them_away(side, other, spb)[:5]:
    print(f"  {row['block']:16s} {row['accuracy']:.3f}  {row['feature']:24s} "
          f"model {row['generated_mean']:.3f} real {row['real_mean']:.3f}", flush=True)
