"""Session (xviii): how much of JSB's realism gap is register? The model's own sampling (64 an
emotion, SEEDS) scored by the sweep's realism (features classifier, overall and per quadrant)
as written and moved down by k semitones (every pitch event, clipped to the 88 keys).
  PYTHONPATH=. .venv/bin/python docs/results/issue19_session_xviii/scripts/register_shift.py \
      MODEL CACHE BARS SPLIT SEEDS(0,1) SHIFTS(0,1,2,3)
"""
import sys

import numpy as np

from hrnnvae import judge, pretrained
from hrnnvae.data import cache as cache_lib
from hrnnvae.data import events as events_lib
from hrnnvae.evaluation import realism, scoring

model, cache, bars, split, seeds, shifts = sys.argv[1:7]
bars = int(bars)
sampler = pretrained.load_model(model)
arrays, manifest = cache_lib.load(cache)
thresholds = judge.thresholds_of(manifest)
spb = sampler.steps_per_bar
real = realism.real_tunes(arrays, bars, spb, thresholds, split=split)
first, last = events_lib.FIRST_PITCH_EVENT, events_lib.FIRST_PITCH_EVENT + 87


def moved(events, k):
  events = np.array(events)
  pitched = events >= first
  events[pitched] = np.clip(events[pitched] - k, first, last)
  return events


def mean_pitch(events):
  pitched = events >= first
  return (events[pitched] - first + events_lib.MIN_PITCH).mean()


print(f"real {split}: mean pitch {mean_pitch(real.events):.2f}", flush=True)
per_shift = {int(k): [] for k in shifts.split(",")}
for seed in (int(s) for s in seeds.split(",")):
  requested = [q for q in range(4) for _ in range(64)]
  melodies = [m.events for m in sampler.sample(requested, bars, seed)]
  for k in per_shift:
    shifted = [moved(m, k) for m in melodies]
    generated = realism.generated_melodies(shifted, requested)
    columns = scoring.realism_columns(realism.model_rows(generated, real, spb,
                                                         classifiers=("features",)))
    agreement = scoring.judged_agreement(shifted, requested, spb, thresholds)
    per_shift[k].append(columns)
    print(f"seed {seed} shift -{k}: mean pitch {mean_pitch(np.stack(shifted)):.2f} "
          + " ".join(f"{c} {v:.3f}" for c, v in columns.items() if c.startswith("realism"))
          + f" judge {np.mean(agreement):.3f}", flush=True)
for k, rows in per_shift.items():
  keys = [c for c in rows[0] if c.startswith("realism")]
  print(f"mean shift -{k}: " + " ".join(f"{c} {np.mean([r[c] for r in rows]):.3f}" for c in keys),
        flush=True)
