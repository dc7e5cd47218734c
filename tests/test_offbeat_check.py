"""launch/offbeat_check.py: the share of a melody's onsets on odd sixteenths."""

import numpy as np

from hrnnvae.data import events as events_lib

from conftest import load_launch_script

CHECK = load_launch_script("offbeat_check")


def test_onsets_on_odd_sixteenths_are_counted_per_melody():
  pitch, hold = events_lib.FIRST_PITCH_EVENT + 40, events_lib.HOLD
  on_the_grid = [pitch, hold, pitch, hold, pitch, hold, hold, hold]
  shifted = [hold, pitch, hold, pitch, pitch, hold, hold, hold]  # steps 1, 3 odd; 4 even
  silent = [hold] * 8
  shares = CHECK["offbeat_shares"](np.array([on_the_grid, shifted, silent]))
  np.testing.assert_allclose(shares, [0.0, 2 / 3, 0.0])
  figures = CHECK["row"](shares, np.array([0, 1, 1]))
  assert figures["off_grid"] == 1 / 3 and figures["off_grid_tense"] == 0.5
  assert figures["off_grid_happy"] == 0.0 and np.isnan(figures["off_grid_calm"])
