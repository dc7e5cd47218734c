"""Emotion from the music itself: melody features, Krumhansl-Schmuckler mode, and quadrant labels.

The datasets carry no emotion labels, so every example is labelled from its notes (Russell's
circumplex, as in the paper): valence from the mode (major +, minor -), arousal from note density
and pitch motion, each normalised by its median over the training split:

  arousal_score = density / median(density) + mean_abs_interval / median(mean_abs_interval)
  arousal is high when arousal_score > 2 (i.e. above the "typical" training melody).

Quadrants: happy (+V +A), tense (-V +A), sad (-V -A), calm (+V -A).

Shapes: events [batch, steps] int classes (see events.py); lengths [batch] real steps;
steps_per_bar [batch].
"""

from __future__ import annotations

import dataclasses

import numpy as np

from hrnnvae.data import events as events_lib

EMOTIONS = ("happy", "tense", "sad", "calm")
FEATURE_NAMES = ("is_major", "key_tonic", "key_correlation", "note_density",
                 "mean_abs_interval", "pitch_std", "mean_note_duration")

# Krumhansl & Kessler (1982) probe-tone profiles, tonic first.
_MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
_MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


def key_profiles() -> np.ndarray:
  """[24, 12]: rows 0..11 major keys on tonic C..B, rows 12..23 minor keys."""
  major = np.stack([np.roll(_MAJOR_PROFILE, tonic) for tonic in range(12)])
  minor = np.stack([np.roll(_MINOR_PROFILE, tonic) for tonic in range(12)])
  return np.concatenate([major, minor])


def _standardize(values: np.ndarray) -> np.ndarray:
  centred = values - values.mean(axis=-1, keepdims=True)
  norm = np.sqrt((centred ** 2).sum(axis=-1, keepdims=True))
  return centred / np.where(norm == 0, 1.0, norm)


def estimate_key(pitch_class_weights: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
  """Krumhansl-Schmuckler key finding: (is_major [b] bool, tonic [b] 0..11, correlation [b]).

  pitch_class_weights: [batch, 12], e.g. the total duration of each pitch class.
  """
  correlations = _standardize(pitch_class_weights) @ _standardize(key_profiles()).T  # [b, 24]
  best = correlations.argmax(axis=-1)
  return best < 12, best % 12, correlations.max(axis=-1)


def _note_table(events: np.ndarray, lengths: np.ndarray):
  """Per step: onset mask, pitch at onset, duration (steps) of the note starting there."""
  steps = np.arange(events.shape[1])
  real = steps[None, :] < lengths[:, None]
  onset = (events >= events_lib.FIRST_PITCH_EVENT) & real
  pitch = np.where(onset, events_lib.event_to_pitch(events.astype(np.int64)), 0)
  # A note lasts until the next non-hold event or the end of the melody.
  change = ((events != events_lib.HOLD) & real) | ~real
  change_at = np.where(change, steps[None, :], events.shape[1])
  next_change = np.minimum.accumulate(change_at[:, ::-1], axis=1)[:, ::-1]
  next_change = np.concatenate(
      [next_change[:, 1:], np.full((events.shape[0], 1), events.shape[1])], axis=1)
  duration = np.where(onset, np.minimum(next_change, lengths[:, None]) - steps[None, :], 0)
  return onset, pitch, duration


def _pitch_class_weights(onset, pitch, duration) -> np.ndarray:
  """[batch, 12] steps each pitch class sounds (a note lasts until the next non-hold event)."""
  weights = np.zeros((onset.shape[0], 12))
  rows = np.nonzero(onset)
  np.add.at(weights, (rows[0], pitch[rows] % 12), duration[rows])
  return weights


def pitch_class_weights(events: np.ndarray, lengths: np.ndarray) -> np.ndarray:
  """The duration-weighted pitch classes [batch, 12] the judge reads the key from."""
  events, lengths = np.asarray(events), np.asarray(lengths, np.int64)
  return _pitch_class_weights(*_note_table(events, lengths))


@dataclasses.dataclass(frozen=True)
class Features:
  """Melody features, each [batch] (names and units in FEATURE_NAMES order)."""
  is_major: np.ndarray           # bool, Krumhansl-Schmuckler mode
  key_tonic: np.ndarray          # 0..11, pitch class of the tonic
  key_correlation: np.ndarray    # Pearson r of the best key profile
  note_density: np.ndarray       # onsets per bar
  mean_abs_interval: np.ndarray  # semitones between consecutive onsets
  pitch_std: np.ndarray          # semitones, over onsets
  mean_note_duration: np.ndarray  # quarter notes

  def as_array(self) -> np.ndarray:
    """[batch, len(FEATURE_NAMES)] float32."""
    return np.stack([np.asarray(getattr(self, name), np.float32) for name in FEATURE_NAMES], -1)

  @classmethod
  def from_array(cls, array: np.ndarray) -> "Features":
    columns = dict(zip(FEATURE_NAMES, np.moveaxis(array, -1, 0)))
    columns["is_major"] = columns["is_major"] > 0.5
    columns["key_tonic"] = columns["key_tonic"].astype(np.int64)
    return cls(**columns)


def melody_features(events: np.ndarray, lengths: np.ndarray,
                    steps_per_bar: np.ndarray) -> Features:
  """Features of a batch of melodies (padding past `lengths` ignored)."""
  events = np.asarray(events)
  lengths = np.asarray(lengths, np.int64)
  onset, pitch, duration = _note_table(events, lengths)
  num_notes = onset.sum(axis=1)
  safe_notes = np.maximum(num_notes, 1)

  is_major, tonic, correlation = estimate_key(_pitch_class_weights(onset, pitch, duration))

  bars = np.maximum(lengths / np.asarray(steps_per_bar, np.float64), 1e-9)
  mean_pitch = (pitch * onset).sum(axis=1) / safe_notes
  pitch_var = (((pitch - mean_pitch[:, None]) ** 2) * onset).sum(axis=1) / safe_notes

  # Interval from the previous onset: forward-fill the last onset's pitch.
  steps = np.arange(events.shape[1])
  last_onset = np.maximum.accumulate(np.where(onset, steps[None, :], -1), axis=1)
  previous_onset = np.concatenate([np.full((events.shape[0], 1), -1), last_onset[:, :-1]], axis=1)
  has_previous = onset & (previous_onset >= 0)
  previous_pitch = np.take_along_axis(pitch, np.maximum(previous_onset, 0), axis=1)
  intervals = np.abs(pitch - previous_pitch) * has_previous
  num_intervals = has_previous.sum(axis=1)

  return Features(
      is_major=is_major,
      key_tonic=tonic,
      key_correlation=correlation,
      note_density=num_notes / bars,
      mean_abs_interval=intervals.sum(axis=1) / np.maximum(num_intervals, 1),
      pitch_std=np.sqrt(pitch_var),
      mean_note_duration=duration.sum(axis=1) / safe_notes / events_lib.STEPS_PER_QUARTER,
  )


@dataclasses.dataclass(frozen=True)
class ArousalThresholds:
  """Training-split medians that arousal is measured against (stored in the cache manifest)."""
  median_note_density: float
  median_mean_abs_interval: float

  @classmethod
  def fit(cls, features: Features) -> "ArousalThresholds":
    return cls(float(np.median(features.note_density)),
               float(np.median(features.mean_abs_interval)))


def emotion_labels(features: Features, thresholds: ArousalThresholds) -> np.ndarray:
  """Quadrant index [batch] int8 into EMOTIONS."""
  arousal_score = (features.note_density / max(thresholds.median_note_density, 1e-9)
                   + features.mean_abs_interval / max(thresholds.median_mean_abs_interval, 1e-9))
  high_arousal = arousal_score > 2.0
  positive = np.asarray(features.is_major, bool)
  labels = np.where(positive, np.where(high_arousal, 0, 3), np.where(high_arousal, 1, 2))
  return labels.astype(np.int8)


def abc_key_is_major(key_field: str) -> bool | None:
  """Mode of an ABC `K:` field ('G', 'Em', 'Ador', 'D mix'); None when it names no mode."""
  text = key_field.strip().split("%")[0].strip()
  if not text or text.lower() in ("none", "hp"):
    return None
  rest = text[1:].lstrip("#b").strip().lower()
  minor_modes = ("m", "min", "minor", "aeo", "dor", "phr", "loc")
  major_modes = ("", "maj", "major", "ion", "mix", "lyd")
  mode = rest.split()[0] if rest else ""
  for name in minor_modes:
    if mode == name or (len(name) >= 3 and mode.startswith(name)):
      return False
  for name in major_modes:
    if mode == name or (len(name) >= 3 and mode.startswith(name)):
      return True
  return None
