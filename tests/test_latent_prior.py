"""The latent prior fitted to the aggregate posterior: its moments, sampling, files, the Sampler,
and its fit after training (hrnnvae.post_training.fit_latent_prior, launch/fit_latent_prior.py)."""

import json
import os
import pathlib
import shutil
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hrnnvae import latent_prior as latent_prior_lib
from hrnnvae import post_training
from hrnnvae.sample import SampleError, Sampler
from tests.test_sample import _random_sampler


def _latents(seed=0, num=4000, dim=6):
  rng = np.random.default_rng(seed)
  emotions = rng.integers(0, 3, num)  # emotion 3 never occurs: it takes the pooled fit
  centres = np.array([[2.0] * dim, [-1.0] * dim, [0.0] * dim])
  mixing = rng.normal(size=(dim, dim)) * 0.5
  mu = centres[emotions] + rng.normal(size=(num, dim)) @ mixing
  log_var = np.log(rng.uniform(0.01, 0.2, size=(num, dim)))
  return mu, log_var, emotions


def test_fit_has_the_aggregate_posteriors_moments():
  mu, log_var, emotions = _latents()
  prior = latent_prior_lib.fit(mu, log_var, emotions, num_emotions=4, shrinkage=0.0)
  for emotion in range(3):
    rows = emotions == emotion
    expected_cov = np.cov(mu[rows], rowvar=False) + np.diag(np.exp(log_var[rows]).mean(0))
    np.testing.assert_allclose(prior.means_ExZ[emotion], mu[rows].mean(0), atol=1e-12)
    scale = prior.scales_ExZxZ[emotion]
    np.testing.assert_allclose(scale @ scale.T, expected_cov, rtol=1e-4, atol=1e-5)
    assert prior.counts_E[emotion] == rows.sum()
  # An emotion without windows falls back to all windows together, and says so with count 0.
  np.testing.assert_allclose(prior.means_ExZ[3], mu.mean(0), atol=1e-12)
  assert prior.counts_E[3] == 0


def test_shrinkage_pulls_the_covariance_towards_its_diagonal():
  mu, log_var, emotions = _latents()
  full = latent_prior_lib.fit(mu, log_var, emotions, 4, shrinkage=0.0)
  shrunk = latent_prior_lib.fit(mu, log_var, emotions, 4, shrinkage=0.5)
  cov_full = full.scales_ExZxZ[0] @ full.scales_ExZxZ[0].T
  cov_shrunk = shrunk.scales_ExZxZ[0] @ shrunk.scales_ExZxZ[0].T
  off = ~np.eye(len(cov_full), dtype=bool)
  np.testing.assert_allclose(np.diag(cov_shrunk), np.diag(cov_full), rtol=1e-4)
  np.testing.assert_allclose(cov_shrunk[off], 0.5 * cov_full[off], rtol=1e-4, atol=1e-6)


def test_samples_follow_each_requested_emotions_gaussian():
  mu, log_var, emotions = _latents()
  prior = latent_prior_lib.fit(mu, log_var, emotions, 4)
  noise = np.random.default_rng(1).normal(size=(20000, mu.shape[1]))
  for emotion in (0, 1):
    z = prior.sample(np.full(len(noise), emotion), noise)
    assert z.dtype == np.float32
    np.testing.assert_allclose(z.mean(0), prior.means_ExZ[emotion], atol=0.05)
    scale = prior.scales_ExZxZ[emotion]
    np.testing.assert_allclose(np.cov(z, rowvar=False), scale @ scale.T, atol=0.15)  # 5 SE
  # Per melody: melody i uses its own emotion's Gaussian on its own noise.
  mixed = prior.sample([0, 1], noise[:2])
  np.testing.assert_allclose(mixed[1], prior.means_ExZ[1] + prior.scales_ExZxZ[1] @ noise[1],
                             rtol=1e-5, atol=1e-5)


def test_save_and_load_round_trip_and_refuse_bad_files(tmp_path):
  mu, log_var, emotions = _latents(dim=4)
  prior = latent_prior_lib.fit(mu, log_var, emotions, 4)
  assert latent_prior_lib.load(tmp_path, 4, 4) is None  # none saved: no prior, no error
  prior.save(tmp_path)
  loaded = latent_prior_lib.load(tmp_path, latent_dim=4, num_emotions=4)
  np.testing.assert_array_equal(loaded.means_ExZ, prior.means_ExZ.astype(np.float32))
  np.testing.assert_array_equal(loaded.counts_E, prior.counts_E)
  with pytest.raises(ValueError, match="refit"):
    latent_prior_lib.load(tmp_path, latent_dim=8, num_emotions=4)  # another model's size
  path = tmp_path / latent_prior_lib.FILE
  path.write_bytes(b"not a numpy archive")
  with pytest.raises(ValueError, match="not a readable latent prior"):
    latent_prior_lib.load(tmp_path, 4, 4)
  with open(path, "wb") as f:  # object arrays would need pickle: never unpickled
    np.savez(f, means=np.array([object()], dtype=object), scales=np.zeros(1), counts=np.zeros(1))
  with pytest.raises(ValueError, match="not a readable latent prior"):
    latent_prior_lib.load(tmp_path, 4, 4)
  with open(path, "wb") as f:
    np.savez(f, means=np.full((4, 4), np.nan), scales=np.zeros((4, 4, 4)), counts=np.zeros(4))
  with pytest.raises(ValueError, match="non-finite"):
    latent_prior_lib.load(tmp_path, 4, 4)


def test_fit_refuses_too_few_or_non_finite_latents():
  with pytest.raises(ValueError, match="cannot fit"):
    latent_prior_lib.fit(np.zeros((1, 3)), None, np.zeros(1), 4)
  with pytest.raises(ValueError, match="cannot fit"):
    latent_prior_lib.fit(np.full((5, 3), np.nan), None, np.zeros(5), 4)


def test_the_sampler_draws_from_the_fitted_prior_it_finds(tmp_path):
  sampler = _random_sampler()
  dim = sampler.hp.latent_dim
  rng = np.random.default_rng(0)
  prior = latent_prior_lib.fit(rng.normal(size=(400, dim)) * 0.1 + 3.0, None,
                               rng.integers(0, 4, 400), 4)
  standard = sampler.prior(4, seed=5, emotions=[0, 1, 2, 3])
  with pytest.raises(SampleError, match="no fitted latent prior"):
    sampler.use_prior("fitted")
  assert sampler.use_prior("auto") == "standard"
  sampler.latent_prior = prior
  assert sampler.use_prior("auto") == "fitted"
  fitted = sampler.prior(4, seed=5, emotions=[0, 1, 2, 3])
  np.testing.assert_allclose(fitted, prior.sample([0, 1, 2, 3], standard), rtol=1e-5, atol=1e-5)
  assert abs(fitted.mean() - 3.0) < 0.5 and abs(standard.mean()) < 0.5
  with pytest.raises(ValueError, match="one requested emotion per latent"):
    sampler.prior(4, seed=5)
  melodies = sampler.sample([0, 1], bars=2, seed=1)
  assert [m.events.shape for m in melodies] == [(32,), (32,)]
  assert sampler.use_prior("standard") == "standard"
  np.testing.assert_array_equal(sampler.prior(4, seed=5), standard)
  with pytest.raises(SampleError, match="--prior must be one of"):
    sampler.use_prior("learned")


def test_training_fits_a_prior_that_the_export_loads(tiny_workdir, nottingham_40):
  """hrnnvae-train fits the prior at the end; it describes the untransposed training windows in
  the meter the model samples in (the tunes in other meters are left out)."""
  sampler = Sampler.load(tiny_workdir / "export")
  assert sampler.prior_kind == "fitted"
  arrays = nottingham_40[1]
  rows = latent_prior_lib.training_rows(arrays, sampler.steps_per_bar)
  every_meter = latent_prior_lib.training_rows(arrays)
  assert set(rows) < set(every_meter)  # the 40 tunes have jigs and waltzes too
  assert set(arrays["steps_per_bar"][rows]) == {sampler.steps_per_bar}
  counts = np.bincount(arrays["emotion"][rows], minlength=4)
  assert sampler.latent_prior.counts_E.sum() == counts[counts >= 32].sum()
  crop = sampler.description["config"]["data"]["max_steps"] or arrays["events"].shape[1]
  cropped = {**arrays, "events": arrays["events"][:, :crop],
             "lengths": np.minimum(arrays["lengths"], crop)}  # as training read them
  refit = latent_prior_lib.fit_to_split(sampler.posterior, cropped, rows, 4)
  np.testing.assert_allclose(sampler.latent_prior.means_ExZ, refit.means_ExZ, rtol=1e-4, atol=1e-5)


def _export_without_prior(tiny_workdir, tmp_path):
  export = tmp_path / "export"
  shutil.copytree(tiny_workdir / "export", export)
  (export / latent_prior_lib.FILE).unlink()
  return export


def _same_prior(folder_a, folder_b, latent_dim):
  a, b = (latent_prior_lib.load(folder, latent_dim, 4) for folder in (folder_a, folder_b))
  for name in ("means_ExZ", "scales_ExZxZ", "counts_E"):
    np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


def test_post_training_fits_the_prior_that_training_fitted(tiny_workdir, nottingham_40, tmp_path):
  """The same rows, crop and seed as the fit at the end of hrnnvae-train: the same numbers."""
  export = _export_without_prior(tiny_workdir, tmp_path)
  config = Sampler.load(export).description["config"]
  messages = []
  path = post_training.fit_latent_prior(export, nottingham_40[0],
                                        max_steps=config["data"]["max_steps"],
                                        max_windows=config["train"]["latent_prior_windows"],
                                        seed=config["seed"], log=messages.append)
  assert path == export / latent_prior_lib.FILE
  sampler = Sampler.load(export)
  _same_prior(export, tiny_workdir / "export", sampler.hp.latent_dim)
  rows = latent_prior_lib.training_rows(nottingham_40[1], sampler.steps_per_bar)
  assert messages[-1] == (f"fitted the latent prior to {len(rows)} training windows of "
                          f"{sampler.steps_per_bar} steps a bar (per emotion: "
                          f"{sampler.latent_prior.counts_E.tolist()}); wrote {path}")
  assert any(message.startswith("latent prior: encoded") for message in messages[:-1])


def test_fit_latent_prior_script_writes_the_prior(tiny_workdir, nottingham_40, tmp_path):
  """launch/fit_latent_prior.py --model=RUN: the run's export/ gets the prior; --max_windows
  draws that many windows at random (--seed)."""
  export = _export_without_prior(tiny_workdir, tmp_path / "run")
  script = pathlib.Path(__file__).parent.parent / "launch" / "fit_latent_prior.py"
  result = subprocess.run([sys.executable, str(script), f"--model={tmp_path / 'run'}",
                           f"--cache={nottingham_40[0]}", "--max_windows=100", "--seed=3"],
                          capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, PYTHONWARNINGS="ignore"))
  assert result.returncode == 0, result.stderr[-3000:]
  assert "fitted the latent prior to 100 training windows" in result.stdout
  assert result.stdout.rstrip().endswith(f"wrote {export / latent_prior_lib.FILE}")
  assert Sampler.load(export).prior_kind == "fitted"


def _fitted_z_sampler(variant):
  """A random tiny model of `variant` whose fitted prior over z alone centres at 3, drawing its
  latents from it: (sampler, latents [4, latent_size] for the four emotions)."""
  sampler = _random_sampler(variant=variant)
  hp = sampler.hp
  assert hp.fitted_latent_size == hp.latent_dim < hp.latent_size
  rng = np.random.default_rng(0)
  sampler.latent_prior = latent_prior_lib.fit(rng.normal(size=(400, hp.latent_dim)) * 0.1 + 3.0,
                                              None, rng.integers(0, 4, 400), 4)
  sampler.use_prior("fitted")
  latents = sampler.prior(4, seed=5, emotions=[0, 1, 2, 3])
  assert latents.shape == (4, hp.latent_size)
  assert abs(latents[:, :hp.latent_dim].mean() - 3.0) < 0.5
  return sampler, latents


def test_with_a_learned_bar_prior_the_fitted_prior_draws_z_and_the_model_draws_the_bars():
  """`:bar_prior`: the fitted Gaussian covers z alone; each bar's latent comes from the learned
  prior given that z and the requested emotion; transfer shifts z alone."""
  sampler, latents = _fitted_z_sampler("bar_prior")
  hp = sampler.hp
  assert hp.learned_bar_prior
  noise = np.array(jax.vmap(lambda k: jax.random.normal(k, (hp.latent_size,)))(
      sampler._keys(5, 4, "latent")))
  noise[:, :hp.latent_dim] = latents[:, :hp.latent_dim]  # the fitted z, then the bars' noise
  bars = sampler.vae.apply({"params": sampler.params["vae"]}, jnp.asarray(noise), jnp.arange(4),
                           method="prior_latents")
  np.testing.assert_allclose(latents, bars, rtol=1e-5, atol=1e-5)
  with pytest.raises(ValueError, match="one requested emotion per latent"):
    sampler.prior(4, seed=5)
  sampler.transfer_shift = 1.0
  shifted = sampler.transfer_latents(latents, [0, 0, 0, 0], [1, 1, 1, 1])
  np.testing.assert_array_equal(shifted[:, hp.latent_dim:], latents[:, hp.latent_dim:])
  assert [m.events.shape for m in sampler.sample([0, 1], bars=2, seed=1)] == [(32,), (32,)]


def test_with_bar_latent_dropout_prior_samples_are_z_alone_and_reconstruction_keeps_the_bars():
  """`:bar_dropout`: the fitted Gaussian covers z alone and a prior latent's bars are zero (the
  model decodes z alone there); a posterior keeps its bars' latents for reconstruction."""
  sampler, latents = _fitted_z_sampler("bar_dropout")
  hp = sampler.hp
  assert hp.prior_drops_bar_latents
  assert not latents[:, hp.latent_dim:].any()
  sampler.use_prior("standard")
  assert not sampler.prior(4, seed=5)[:, hp.latent_dim:].any()  # no emotion needed for N(0, I)
  events = np.asarray(sampler.sample([0, 1], bars=2, seed=1)[0].events)
  mu = sampler.posterior(events[None], [len(events)], [16])[0]
  assert np.abs(mu[:, hp.latent_dim:]).max() > 0


# --- Mixture priors (issue 19) ---------------------------------------------------------------

def _two_clusters(seed=0, dim=3):
  """A quarter of the points about -5, three quarters about +5, each coordinate's deviation 0.5."""
  rng = np.random.default_rng(seed)
  side = np.where(rng.uniform(size=1600) < 0.25, -5.0, 5.0)
  return side[:, None] + 0.5 * rng.normal(size=(1600, dim)), side


def test_em_finds_two_clusters_and_widens_them_by_the_posterior_variance():
  points, side = _two_clusters()
  posterior_variance = np.full_like(points, 0.3 ** 2)
  weights, means, stds = latent_prior_lib.diagonal_mixture(points, posterior_variance, 2,
                                                           np.random.default_rng(1))
  order = np.argsort(means[:, 0])
  np.testing.assert_allclose(weights[order], [np.mean(side < 0), np.mean(side > 0)], atol=1e-6)
  np.testing.assert_allclose(means[order], [[-5.0] * 3, [5.0] * 3], atol=0.08)
  # each cluster's own spread (0.5) widened by the posterior variance: sqrt(0.25 + 0.09)
  np.testing.assert_allclose(stds, np.sqrt(0.25 + 0.09), atol=0.04)
  assert weights.sum() == pytest.approx(1.0)
  # more components than points: as many as there are points, each on one
  weights, means, stds = latent_prior_lib.diagonal_mixture(points[:3], np.zeros((3, 3)), 8,
                                                           np.random.default_rng(0))
  assert len(weights) == 3 and np.isfinite(means).all() and (stds > 0).all()


def test_a_mixture_prior_samples_each_component_by_its_weight():
  points, _ = _two_clusters(dim=2)
  emotions = np.zeros(len(points), int)
  emotions[::7] = 1  # emotion 1: a few points of both; emotions 2, 3: none (the pooled fit)
  prior = latent_prior_lib.fit(points, None, emotions, 4, components=2, seed=0)
  assert isinstance(prior, latent_prior_lib.MixturePrior) and prior.components == 2
  assert prior.counts_E.tolist() == [int((emotions == 0).sum()), int((emotions == 1).sum()), 0, 0]
  np.testing.assert_array_equal(prior.means_ExKxZ[2], prior.means_ExKxZ[3])  # both pooled
  rng = np.random.default_rng(2)
  noise, uniform = rng.normal(size=(20000, 2)), rng.uniform(size=20000)
  z = prior.sample(np.zeros(20000, int), noise, uniform)
  assert z.dtype == np.float32
  low = z[:, 0] < 0
  low_component = int(np.argmin(prior.means_ExKxZ[0, :, 0]))
  assert abs(low.mean() - prior.weights_ExK[0, low_component]) < 4 * np.sqrt(0.25 / 20000)
  np.testing.assert_allclose(z[low].mean(0), prior.means_ExKxZ[0, low_component], atol=0.03)
  np.testing.assert_allclose(z[low].std(0), prior.stds_ExKxZ[0, low_component], rtol=0.05)
  np.testing.assert_allclose(prior.means_ExZ[0], points[emotions == 0].mean(0), atol=1e-6)
  # a uniform below the first component's weight picks it, one above picks the second
  first = prior.weights_ExK[0, 0]
  picked = prior.sample([0, 0], np.zeros((2, 2)), [first * 0.99, min(first * 1.01, 0.999)])
  np.testing.assert_allclose(picked, prior.means_ExKxZ[0].astype(np.float32), rtol=1e-6)
  # the Gaussian prior does not read the uniform
  gaussian = latent_prior_lib.fit(points, None, emotions, 4)
  np.testing.assert_array_equal(gaussian.sample([0, 1], noise[:2], [0.1, 0.2]),
                                gaussian.sample([0, 1], noise[:2], [0.9, 0.7]))


def test_a_mixture_prior_round_trips_and_bad_ones_are_refused(tmp_path):
  points, _ = _two_clusters(dim=4)
  prior = latent_prior_lib.fit(points, np.full_like(points, -2.0), np.arange(len(points)) % 4, 4,
                               components=3)
  prior.save(tmp_path)
  loaded = latent_prior_lib.load(tmp_path, latent_dim=4, num_emotions=4)
  assert isinstance(loaded, latent_prior_lib.MixturePrior)
  for name in ("weights_ExK", "means_ExKxZ", "stds_ExKxZ"):
    np.testing.assert_array_equal(getattr(loaded, name), getattr(prior, name).astype(np.float32))
  with pytest.raises(ValueError, match="refit"):
    latent_prior_lib.load(tmp_path, latent_dim=5, num_emotions=4)
  for broken in ({"stds": -loaded.stds_ExKxZ}, {"weights": loaded.weights_ExK * 2}):
    arrays = {"weights": loaded.weights_ExK, "means": loaded.means_ExKxZ,
              "stds": loaded.stds_ExKxZ, "counts": loaded.counts_E, **broken}
    with open(tmp_path / latent_prior_lib.FILE, "wb") as f:
      np.savez(f, **arrays)
    with pytest.raises(ValueError, match="refit"):
      latent_prior_lib.load(tmp_path, 4, 4)


def test_the_sampler_draws_a_mixtures_component_from_each_melodys_key():
  sampler = _random_sampler()
  dim = sampler.hp.latent_dim
  rng = np.random.default_rng(0)
  side = np.where(rng.uniform(size=800) < 0.5, -3.0, 3.0)
  sampler.latent_prior = latent_prior_lib.fit(side[:, None] + 0.01 * rng.normal(size=(800, dim)),
                                              None, np.zeros(800, int), 4, components=2)
  sampler.use_prior("fitted")
  z = sampler.prior(64, seed=5, emotions=[0] * 64)
  means = np.abs(z).mean(1)
  np.testing.assert_allclose(means, 3.0, atol=0.1)  # each latent lies on one component
  assert 10 < (z.mean(1) < 0).sum() < 54  # both components drawn
  np.testing.assert_array_equal(z, sampler.prior(64, seed=5, emotions=[0] * 64))
  assert not np.array_equal(z, sampler.prior(64, seed=6, emotions=[0] * 64))


def test_refitting_a_shipped_models_prior_records_it_in_the_manifest(tiny_workdir, nottingham_40,
                                                                    tmp_path):
  export = _export_without_prior(tiny_workdir, tmp_path)
  manifest = {"files": {name: (export / name).stat().st_size for name in ("config.json",)},
              "size_bytes": 0, "prior": "standard"}
  (export / "manifest.json").write_text(json.dumps(manifest))
  messages = []
  path = post_training.fit_latent_prior(export, nottingham_40[0], components=4,
                                        chosen_by="a test", log=messages.append)
  recorded = json.loads((export / "manifest.json").read_text())
  assert recorded["files"][latent_prior_lib.FILE] == path.stat().st_size
  assert recorded["size_bytes"] == sum(recorded["files"].values()) and recorded["prior"] == "fitted"
  assert recorded["prior_changes"][-1]["components"] == 4
  assert recorded["prior_changes"][-1]["chosen_by"] == "a test"
  assert "(4 diagonal Gaussians an emotion)" in messages[-1]
  assert Sampler.load(export).latent_prior.components == 4
