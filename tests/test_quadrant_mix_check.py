"""launch/quadrant_mix_check.py: real tunes drawn in given quadrant shares, and each quadrant's
rhythm."""

import numpy as np

from hrnnvae.data import events as events_lib
from hrnnvae.evaluation import realism

from conftest import load_launch_script

CHECK = load_launch_script("quadrant_mix_check")


def test_tunes_are_drawn_in_the_shares_asked_without_repeats():
  melodies = realism.Melodies(np.arange(400)[:, None], np.arange(400) // 4,
                              np.repeat([0, 1, 2, 3], [200, 40, 60, 100]))
  rng = np.random.default_rng(0)
  equal = CHECK["drawn_in_shares"](melodies, np.full(4, 0.25), 200, rng)
  assert np.bincount(equal.quadrants).tolist() == [50, 40, 50, 50]  # tense has only 40
  assert len(np.unique(equal.events)) == len(equal.events)
  np.testing.assert_array_equal(equal.groups, equal.events[:, 0] // 4)  # rows stay whole
  same = CHECK["drawn_in_shares"](melodies, CHECK["shares_of"](melodies), 100, rng)
  assert np.bincount(same.quadrants).tolist() == [50, 10, 15, 25]


def test_rhythm_counts_one_step_notes_and_notes_per_bar_per_quadrant():
  pitch, hold = events_lib.FIRST_PITCH_EVENT + 40, events_lib.HOLD
  sixteenths = np.full(16, pitch)  # 16 one-step notes in one bar
  eighths = np.tile([pitch, hold], 8)
  melodies = realism.Melodies(np.stack([sixteenths, eighths, eighths]), np.arange(3),
                              np.array([1, 0, 0]))
  rows = CHECK["rhythm"](melodies, 16)
  assert rows["tense"] == {"melodies": 1, "one_step_notes": 1.0, "notes_per_bar": 16.0}
  assert rows["happy"] == {"melodies": 2, "one_step_notes": 0.0, "notes_per_bar": 8.0}
  assert rows["sad"] == {"melodies": 0}
