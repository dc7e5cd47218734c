"""launch/part_latents_check.py: the consecutive parts it pairs and the prior coordinates it reads
latents in (the noise the fitted Gaussian maps to each latent)."""

import numpy as np

from hrnnvae import latent_prior as latent_prior_lib

from conftest import load_launch_script

CHECK = load_launch_script("part_latents_check")


def test_pairs_are_full_windows_of_one_tune_a_window_apart():
  # Tune 0: windows at bars 0, 16, 32 (the last one short); tune 1: bars 0 and 8; tune 2 has
  # a second segment whose bar 16 is not the first segment's continuation.
  piece = np.array([0, 0, 0, 1, 1, 2, 2])
  segment = np.array([0, 0, 0, 0, 0, 0, 1])
  start_bar = np.array([0, 16, 32, 0, 8, 0, 16])
  lengths = np.array([256, 256, 128, 256, 256, 256, 256])
  arrays = {"piece": piece, "segment": segment, "start_bar": start_bar, "lengths": lengths,
            "steps_per_bar": np.full(7, 16)}
  pairs = CHECK["consecutive_pairs"](arrays, np.arange(7))
  assert sorted(map(tuple, pairs.tolist())) == [(0, 1)]


def test_prior_coordinates_give_back_the_noise_the_prior_was_sampled_with():
  rng = np.random.default_rng(0)
  latents = rng.normal(size=(400, 6))
  emotions = np.arange(400) % 4
  prior = latent_prior_lib.fit(latents * np.arange(1, 7), None, emotions, num_emotions=4)
  noise = rng.normal(size=(50, 6))
  asked = rng.integers(0, 4, 50)
  drawn = prior.sample(asked, noise)
  np.testing.assert_allclose(CHECK["prior_coordinates"](prior, drawn, asked), noise, atol=1e-4)
