"""Emotion features against values worked out by hand, and the labelling rule."""

import numpy as np
import pytest

from hrnnvae.data import emotion as emotion_lib
from hrnnvae.data import events as events_lib

from conftest import melody

C_MAJOR_SCALE = (60, 62, 64, 65, 67, 69, 71, 72)


def _features(*melodies, steps_per_bar=16):
  events = np.stack(melodies)
  lengths = np.full(len(melodies), events.shape[1])
  return emotion_lib.melody_features(events, lengths, np.full(len(melodies), steps_per_bar))


def test_c_major_scale_in_quarters():
  scale = melody(*[(p, 4) for p in C_MAJOR_SCALE], steps=32)
  features = _features(scale)
  assert features.is_major[0] and features.key_tonic[0] == 0  # C major
  assert features.note_density[0] == pytest.approx(8 / 2)  # 8 onsets over 2 bars of 4/4
  assert features.mean_abs_interval[0] == pytest.approx(12 / 7)  # 2+2+1+2+2+2+1 over 7
  assert features.pitch_std[0] == pytest.approx(np.std(C_MAJOR_SCALE))
  assert features.mean_note_duration[0] == pytest.approx(1.0)  # quarter notes


def test_a_minor_arpeggio_is_minor():
  arpeggio = melody(*[(p, 2) for p in (57, 60, 64, 69, 64, 60, 57, 60)], (57, 8), steps=32)
  features = _features(arpeggio)
  assert not features.is_major[0] and features.key_tonic[0] == 9  # A minor
  assert features.mean_abs_interval[0] == pytest.approx((3 + 4 + 5 + 5 + 4 + 3 + 3 + 3) / 8)
  # Durations: eight 8th notes (2 steps) and one half note (8 steps), in quarters.
  assert features.mean_note_duration[0] == pytest.approx((8 * 0.5 + 2.0) / 9)


def test_dense_rhythm_has_more_onsets_per_bar_than_sparse():
  dense = melody(*[(60 + (i % 2) * 7, 1) for i in range(32)], steps=32)  # 16ths, leaps of a fifth
  sparse = melody((60, 16), (62, 16), steps=32)  # whole notes, a step apart
  features = _features(dense, sparse)
  np.testing.assert_allclose(features.note_density, [16.0, 1.0])
  np.testing.assert_allclose(features.mean_abs_interval, [7.0, 2.0])
  np.testing.assert_allclose(features.mean_note_duration, [0.25, 4.0])
  thresholds = emotion_lib.ArousalThresholds(median_note_density=4.0, median_mean_abs_interval=3.0)
  labels = emotion_lib.emotion_labels(features, thresholds)
  assert [emotion_lib.EMOTIONS[i] for i in labels] == ["happy", "calm"]


def test_padding_is_ignored():
  scale = melody(*[(p, 4) for p in C_MAJOR_SCALE], steps=32)
  padded = np.concatenate([scale, np.full(32, 60, np.int8)])  # junk past the length
  plain = _features(scale).as_array()
  masked = emotion_lib.melody_features(padded[None], np.array([32]), np.array([16])).as_array()
  np.testing.assert_allclose(masked, plain)


def test_key_finding_equals_a_numpy_correlation_loop():
  rng = np.random.default_rng(0)
  weights = rng.random((50, 12))
  is_major, tonic, correlation = emotion_lib.estimate_key(weights)
  for row in range(50):
    scores = []
    for profile in (emotion_lib._MAJOR_PROFILE, emotion_lib._MINOR_PROFILE):
      for key in range(12):
        scores.append(np.corrcoef(weights[row], np.roll(profile, key))[0, 1])
    best = int(np.argmax(scores))
    assert (is_major[row], tonic[row]) == (best < 12, best % 12)
    assert correlation[row] == pytest.approx(max(scores))


def test_quadrants():
  features = emotion_lib.Features(
      is_major=np.array([True, False, False, True]), key_tonic=np.zeros(4, int),
      key_correlation=np.ones(4), note_density=np.array([8.0, 8.0, 1.0, 1.0]),
      mean_abs_interval=np.array([4.0, 4.0, 1.0, 1.0]), pitch_std=np.ones(4),
      mean_note_duration=np.ones(4))
  labels = emotion_lib.emotion_labels(features, emotion_lib.ArousalThresholds(4.0, 2.0))
  assert [emotion_lib.EMOTIONS[i] for i in labels] == ["happy", "tense", "sad", "calm"]


@pytest.mark.parametrize("field,expected", [
    ("G", True), ("Em", False), ("Ador", False), ("Dmix", True), ("Bb", True), ("F#m", False),
    ("D major", True), ("none", None), ("", None)])
def test_abc_key_field_mode(field, expected):
  assert emotion_lib.abc_key_is_major(field) is expected


def test_pitch_class_weights_count_the_steps_each_pitch_class_sounds():
  # C4 for 3 steps, a note-off, E4 held to the end (2 steps), then padding that is not read.
  c4, e4 = (events_lib.pitch_to_event(p) for p in (60, 64))
  events = np.array([[c4, events_lib.HOLD, events_lib.HOLD, events_lib.NOTE_OFF, e4,
                      events_lib.HOLD, c4, c4]])
  weights = emotion_lib.pitch_class_weights(events, [6])
  expected = np.zeros((1, 12))
  expected[0, 0], expected[0, 4] = 3, 2
  np.testing.assert_array_equal(weights, expected)
