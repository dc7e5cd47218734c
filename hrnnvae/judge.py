"""The judge: the data pipeline's feature labeller (data/emotion.py) applied to melodies.

Every emotion a tool calls a melody's own, or checks a requested emotion against, comes from here:
a section's own emotion in Sampler.reconstruct, hrnnvae-sample's `feature_emotion`, the
evaluation's emotional consistency and emotion transfer, the classifier fit's labels. It is the
labeller the cache's labels came from, with the thresholds recorded beside them (the training
split's medians: "arousal_thresholds" in a cache manifest and in an export's data facts alike),
so a real training melody is judged exactly as it was labelled.

Melodies are a list of [steps] event arrays of any lengths; steps_per_bar is one int for all or
one per melody.
"""

from __future__ import annotations

import numpy as np

from hrnnvae.data import emotion as emotion_lib


def thresholds_of(facts: dict) -> emotion_lib.ArousalThresholds:
  """The arousal thresholds of a cache manifest or of an export's data facts."""
  return emotion_lib.ArousalThresholds(**facts["arousal_thresholds"])


def padded(melodies) -> tuple[np.ndarray, np.ndarray]:
  """(events [N, longest] int64, zero past each melody's end; lengths [N]) of N melodies."""
  lengths = np.array([len(m) for m in melodies], np.int64)
  events = np.zeros((len(melodies), lengths.max(initial=0)), np.int64)
  for row, melody in enumerate(melodies):
    events[row, :len(melody)] = melody
  return events, lengths


def features(melodies, steps_per_bar) -> emotion_lib.Features:
  """The features the judge reads ([N] each) of N melodies."""
  events, lengths = padded(melodies)
  return emotion_lib.melody_features(events, lengths, np.broadcast_to(steps_per_bar, lengths.shape))


def labels(melodies, steps_per_bar, thresholds: emotion_lib.ArousalThresholds) -> np.ndarray:
  """The judge's quadrant [N] int64 (an index into EMOTIONS) of each of N melodies."""
  return emotion_lib.emotion_labels(features(melodies, steps_per_bar), thresholds).astype(np.int64)
