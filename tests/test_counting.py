"""The counting baselines: probabilities worked out by hand, proper distributions, and on real
Nottingham tunes the counting model beats the majority class."""

import math

import numpy as np
import pytest

from hrnnvae.data import events as events_lib
from hrnnvae.data import sources as sources_lib
from hrnnvae.metrics import counting

from conftest import melody as make_melody

TRAIN, TEST = sources_lib.SPLITS.index("train"), sources_lib.SPLITS.index("test")


def _arrays(melodies, splits, steps_per_bar):
  """A cache's arrays from melodies [steps] (HOLD-padded to the longest)."""
  steps = max(len(m) for m in melodies)
  events = np.zeros((len(melodies), steps), np.int8)
  for row, m in enumerate(melodies):
    events[row, :len(m)] = m
  return {"events": events, "lengths": np.array([len(m) for m in melodies], np.int16),
          "steps_per_bar": np.asarray(steps_per_bar, np.int16), "split": np.asarray(splits, np.int8),
          "transposition": np.zeros(len(melodies), np.int8)}


# One bar of 4/4 in 8th notes (steps_per_bar 16): C D E C, a rest, then C.
TUNE = make_melody((60, 2), (62, 2), (64, 2), (60, 2), (None, 4), (60, 4), steps=16)


def test_probabilities_by_hand():
  kind_k, pitch_k = 0.1, 1.0
  model = counting.fit(_arrays([TUNE], [TRAIN], [16]), kind_k=kind_k, pitch_k=pitch_k)
  log_p = counting.log_probs(model, TUNE[None], np.array([16]))[0]
  # Step 0: the only START transition in training was an onset.
  onset_given_start = (1 + kind_k) / (1 + 3 * kind_k)
  onset_at_0 = (1 + 3 * kind_k * onset_given_start) / (1 + 3 * kind_k)
  # Pitches 60, 62, 64, 60, 60: c(60) = 3 of 5 onsets; context (START, START) was followed by 60.
  unigram_60 = (3 + pitch_k) / (5 + 88 * pitch_k)
  bigram_60 = (1 + 88 * pitch_k * unigram_60) / (1 + 88 * pitch_k)  # after START: 60 once
  trigram_60 = (1 + 88 * pitch_k * bigram_60) / (1 + 88 * pitch_k)
  c60 = events_lib.pitch_to_event(60)
  assert log_p[0, c60] == pytest.approx(math.log(onset_at_0 * trigram_60))
  # Step 1 (position 1, after an onset): HOLD was seen once there, and after all 5 onsets.
  hold_given_onset = (5 + kind_k) / (5 + 3 * kind_k)
  assert log_p[1, events_lib.HOLD] == pytest.approx(
      math.log((1 + 3 * kind_k * hold_given_onset) / (1 + 3 * kind_k)))
  # D then E: at E the context (START, D) was never seen, so P3 falls back to P2(E | D) exactly.
  other = make_melody((62, 2), (64, 2), steps=4)
  log_p = counting.log_probs(model, other[None], np.array([16]))[0]
  unigram_64 = (1 + pitch_k) / (5 + 88 * pitch_k)
  bigram_64 = (1 + 88 * pitch_k * unigram_64) / (1 + 88 * pitch_k)  # D was followed by E once
  onset_2 = np.exp(log_p[2, events_lib.FIRST_PITCH_EVENT:]).sum()
  assert np.exp(log_p[2, events_lib.pitch_to_event(64)]) == pytest.approx(onset_2 * bigram_64)
  assert model.majority_event == events_lib.HOLD  # 10 of 16 steps


def test_every_next_step_is_a_proper_distribution():
  rng = np.random.default_rng(0)
  melodies = [rng.choice([0, 0, 0, 1, 40, 42, 44, 47], size=rng.integers(8, 48)) for _ in range(12)]
  meters = [16, 12] * 6
  model = counting.fit(_arrays(melodies, [TRAIN] * 10 + [TEST] * 2, meters))
  # Unseen pitches, contexts and a meter never trained on (20 steps a bar) included.
  events = rng.integers(0, events_lib.NUM_CLASSES, size=(6, 40))
  log_p = counting.log_probs(model, events, np.array([16, 12, 20, 16, 12, 20]))
  assert log_p.shape == (6, 40, events_lib.NUM_CLASSES)
  assert np.all(np.isfinite(log_p)) and np.all(log_p < 0)
  np.testing.assert_allclose(np.exp(log_p).sum(-1), 1.0, rtol=1e-12)
  np.testing.assert_allclose(np.exp(model.log_event_unigram).sum(), 1.0, rtol=1e-12)


def test_rows_score_only_real_test_steps():
  short = make_melody((67, 4), (None, 4), steps=8)
  arrays = _arrays([TUNE, TUNE, short], [TRAIN, TEST, TEST], [16, 16, 16])
  arrays["transposition"][1] = 2  # a transposed copy is not scored: only `short` is
  model = counting.fit(arrays)
  row = counting.likelihood_row(model, arrays)
  log_p = counting.log_probs(model, short[None], np.array([16]))[0]
  expected = -log_p[np.arange(8), short].sum()
  assert row["nll_per_melody"] == pytest.approx(expected)
  assert row["cross_entropy_per_step"] == pytest.approx(expected / 8)
  assert row["teacher_forced_accuracy"] == pytest.approx((log_p.argmax(-1) == short).mean())
  majority = counting.majority_row(model, arrays)
  assert majority["teacher_forced_accuracy"] == pytest.approx(6 / 8)  # HOLD at 6 of 8 steps
  assert set(majority) == set(row)


@pytest.mark.slow
def test_counting_beats_the_majority_class_on_nottingham(nottingham):
  _, arrays, _ = nottingham
  rows = counting.reference_rows(arrays)
  row, majority = rows[counting.COUNTING_ROW], rows[counting.MAJORITY_ROW]
  assert row["teacher_forced_accuracy"] > majority["teacher_forced_accuracy"] + 0.03
  test = (arrays["split"] == TEST) & (arrays["transposition"] == 0)
  real = np.arange(arrays["events"].shape[1])[None] < arrays["lengths"][test][:, None]
  frequencies = np.bincount(arrays["events"][test][real], minlength=events_lib.NUM_CLASSES)
  frequencies = frequencies[frequencies > 0] / real.sum()
  unigram_entropy = -(frequencies * np.log(frequencies)).sum()  # the best any unigram can do
  assert row["cross_entropy_per_step"] < unigram_entropy - 0.3
  assert majority["cross_entropy_per_step"] >= unigram_entropy


def test_transposed_training_copies_are_not_counted():
  shifted = np.where(TUNE >= 2, TUNE + 3, TUNE)
  with_copy = _arrays([TUNE, shifted], [TRAIN, TRAIN], [16, 16])
  with_copy["transposition"][1] = 3
  alone = counting.fit(_arrays([TUNE], [TRAIN], [16]))
  model = counting.fit(with_copy)
  np.testing.assert_array_equal(model.log_pitch, alone.log_pitch)
  np.testing.assert_array_equal(model.log_event_unigram, alone.log_event_unigram)
