"""launch/bar_repeat_check.py: which bars restate earlier ones, and a copy-mixture model's
figures on real tunes."""


import numpy as np
from test_sample import _random_sampler

from conftest import load_launch_script

CHECK = load_launch_script("bar_repeat_check")


def test_restating_bars_are_those_equal_to_an_earlier_bar():
  bars = np.array([[[1, 2], [3, 4], [1, 2], [3, 4], [5, 6]]])
  restates, same, different = CHECK["restating_bars"](bars)
  np.testing.assert_array_equal(restates, [[False, False, True, True, False]])
  assert same == [(0, 0, 2), (0, 1, 3)] and len(same) + len(different) == 5 * 4 // 2


def test_a_copy_mixture_model_is_measured_on_real_tunes(nottingham_40):
  """The 40 tunes' 4-bar windows (the random model's 4 slots): equal bars are found and every
  figure of the copy mixture is there; a copy's sigma starts at e^-1 (copy_log_var -2)."""
  _, arrays, _ = nottingham_40
  sampler = _random_sampler(variant="bar_copy_prior")
  figures = CHECK["measure"](sampler, arrays, "train", 64)
  assert figures["windows"] == 64 and figures["identical_pairs"] > 0
  for name in ("identical_distance", "different_distance", "kl_restating", "kl_new",
               "copy_share_restating", "copy_share_new"):
    assert np.isfinite(figures[name]), name
  assert 0.0 < figures["copy_share_new"] < 1.0
  np.testing.assert_allclose(figures["copy_sigma"], np.exp(-1.0), rtol=1e-6)
