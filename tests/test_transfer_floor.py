"""launch/transfer_floor.py: the rule that moves a tune to another quadrant one step at a time."""

import numpy as np

from hrnnvae import judge
from hrnnvae.data import emotion as emotion_lib
from hrnnvae.data import events as events_lib

from conftest import load_launch_script

FLOOR = load_launch_script("transfer_floor")
THRESHOLDS = emotion_lib.ArousalThresholds(median_note_density=4.0, median_mean_abs_interval=2.0)


def _melody(pitches, duration):
  """Notes of one duration each: a pitch event, then holds."""
  melody = np.zeros(len(pitches) * duration, np.int64)
  melody[::duration] = events_lib.pitch_to_event(np.array(pitches))
  return melody


# A C major tune in half notes (2 a bar against the median 4, mean interval 2.4 against 2:
# arousal score 1.7, judged calm), 16 bars.
C_MAJOR = _melody([60, 62, 64, 65, 67, 65, 64, 62, 60, 64, 67, 72, 67, 64, 62, 60] * 2, 8)


def test_the_rule_reaches_every_other_quadrant_and_keeps_most_steps():
  own = int(judge.labels([C_MAJOR], 16, THRESHOLDS)[0])
  assert emotion_lib.EMOTIONS[own] == "calm"
  for requested in set(range(4)) - {own}:
    edited = FLOOR["transfer"](C_MAJOR, requested, 16, THRESHOLDS)
    assert judge.labels([edited], 16, THRESHOLDS)[0] == requested, emotion_lib.EMOTIONS[requested]
    assert edited.shape == C_MAJOR.shape and (edited == C_MAJOR).mean() >= 0.75
  # Asked for its own quadrant, the rule leaves the tune be.
  np.testing.assert_array_equal(FLOOR["transfer"](C_MAJOR, own, 16, THRESHOLDS), C_MAJOR)


def test_a_mode_change_moves_only_the_degrees_that_tell_the_modes_apart():
  minor = FLOOR["_change_mode"](C_MAJOR, 16, to_major=False)
  moved = np.nonzero(minor != C_MAJOR)[0]
  pitches = events_lib.event_to_pitch(C_MAJOR[moved])
  assert set((pitches - 60) % 12) == {4}  # E, the only one of E, A and B it has
  np.testing.assert_array_equal(events_lib.event_to_pitch(minor[moved]), pitches - 1)


def test_arousal_edits_change_one_step_each():
  higher = FLOOR["_raise_arousal"](C_MAJOR)
  assert (higher != C_MAJOR).sum() == 1
  step = int(np.nonzero(higher != C_MAJOR)[0][0])
  assert C_MAJOR[step] == events_lib.HOLD and step % 8 == 4  # the middle of a half note
  lower = FLOOR["_lower_arousal"](C_MAJOR)
  assert (lower != C_MAJOR).sum() == 1 and lower[lower != C_MAJOR][0] == events_lib.HOLD
