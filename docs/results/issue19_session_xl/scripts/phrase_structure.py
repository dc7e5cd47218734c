"""Session (xl): what makes a model's 4-bar phrases more alike than the tunes' (phrase
similarity, metrics/melody.phrase_similarity: the share of steps whose events are identical,
over pairs of 4-bar phrases; the one repetition feature whose absence brings the shipped
model's draws under 0.70, (xxxix)). Splits it, per pair of phrases k phrases apart, into
  steps:   the share of identical steps (the feature, per distance),
  rhythm:  the share of steps where both phrases strike a note or both do not,
  pitch:   of the steps where both strike, the share striking the same pitch,
  holds:   the share of identical steps that are HOLD in both (matched by rhythm alone),
for the model's prior samples (SEEDS, PER_EMOTION a quadrant) and the training and test spans.
  PYTHONPATH=. .venv/bin/python docs/results/issue19_session_xl/scripts/phrase_structure.py \
      CACHE MODEL BARS SEEDS PER_EMOTION
"""
import sys

import numpy as np

from hrnnvae.data import events as events_lib
from hrnnvae.evaluation import realism

sys.path.insert(0, __file__.rsplit("/", 1)[0] + "/../../issue19_session_xxix/scripts")
from realism_by_family import setup  # noqa: E402

PHRASE_BARS = 4


def pair_figures(melodies, spb):
  """{distance: [steps, rhythm, pitch, holds]} averaged over melodies and their phrase pairs."""
  sums = {}
  for events in melodies:
    events = np.asarray(events)
    count = len(events) // (PHRASE_BARS * spb)
    if count < 2:
      continue
    phrases = events[:count * PHRASE_BARS * spb].reshape(count, -1)
    onset = phrases >= events_lib.FIRST_PITCH_EVENT
    hold = phrases == events_lib.HOLD
    for first in range(count):
      for second in range(first + 1, count):
        same = phrases[first] == phrases[second]
        both = onset[first] & onset[second]
        row = [same.mean(), (onset[first] == onset[second]).mean(),
               same[both].mean() if both.any() else np.nan,
               (same & hold[first]).sum() / max(same.sum(), 1)]
        sums.setdefault(second - first, []).append(row)
  return {d: np.nanmean(np.array(rows), axis=0) for d, rows in sorted(sums.items())}


def show(label, melodies, spb):
  figures = pair_figures(melodies, spb)
  every = np.nanmean(np.array([r for d, r in figures.items() for _ in range(8 - d)]), axis=0)
  print(f"{label:28s} all pairs: steps {every[0]:.3f} rhythm {every[1]:.3f} pitch {every[2]:.3f} "
        f"holds {every[3]:.3f}")
  for distance, row in figures.items():
    print(f"  {distance} phrase(s) apart: steps {row[0]:.3f} rhythm {row[1]:.3f} "
          f"pitch {row[2]:.3f} holds {row[3]:.3f}")


def main(cache, model, bars, seeds, per_emotion):
  arrays, thresholds, sampler, spb, bars, requested = setup(cache, model, bars, per_emotion)
  for split in ("train", "test"):
    real = realism.real_tunes(arrays, bars, spb, thresholds, split=split)
    show(f"{split} spans ({len(real.events)})", real.events, spb)
  for seed in (int(s) for s in seeds.split(",")):
    melodies = [np.asarray(m.events) for m in sampler.sample(requested, bars, seed)]
    show(f"{model} seed {seed}", melodies, spb)


if __name__ == "__main__":
  main(*sys.argv[1:])
