"""Likelihood metrics: the importance-sampled bound against the ELBO on real melodies."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hrnnvae.data import events as events_lib
from hrnnvae.metrics.likelihood import deterministic_sums, likelihood_sums
from hrnnvae.models.vae import HierarchicalVAE

from conftest import model_hparams


@pytest.fixture(scope="module")
def model_and_batch(nottingham_40):
  """A tiny model and 6 real windows, made once for the file (an eager init compiles every scan
  of the model again: seconds a test)."""
  _, arrays, _ = nottingham_40
  rows = np.arange(6)
  batch = {"events": jnp.asarray(arrays["events"][rows, :32], jnp.int32),
           "lengths": jnp.asarray(np.minimum(arrays["lengths"][rows], 32), jnp.int32),
           "steps_per_bar": jnp.asarray(arrays["steps_per_bar"][rows], jnp.int32),
           "emotion": jnp.asarray(arrays["emotion"][rows], jnp.int32)}
  hp = model_hparams(32, 8, embed_dim=8, short_term_dim=16, long_term_dim=16, latent_dim=4,
                     conductor_dim=8, decoder_dim=16, attention_dim=8, sample_unroll=1)
  vae = HierarchicalVAE(hp)
  params = vae.init(jax.random.key(0), batch["events"], batch["lengths"], batch["steps_per_bar"],
                    batch["emotion"], jax.random.key(1))["params"]
  return vae, params, batch


@pytest.mark.slow
def test_one_importance_sample_is_the_elbo_and_more_are_tighter(model_and_batch):
  vae, params, batch = model_and_batch
  sums = jax.jit(likelihood_sums, static_argnums=(0, 4))
  one = [sums(vae, params, batch, jax.random.key(seed), 1) for seed in range(16)]
  many = [sums(vae, params, batch, jax.random.key(seed), 32) for seed in range(4)]
  # K = 1: log p(x|z) + log p(z) - log q(z|x) has expectation log p(x|z) - KL, the ELBO.
  gap = np.mean([o["importance_log_px"] - o["elbo"] for o in one], axis=0)
  np.testing.assert_allclose(gap, 0.0, atol=0.5)
  # K = 32 is a tighter bound: at least the ELBO (averaged over seeds, up to noise).
  importance = np.mean([m["importance_log_px"] for m in many], axis=0)
  elbo = np.mean([o["elbo"] for o in one], axis=0)
  assert np.all(importance >= elbo - 0.25)
  first = one[0]
  assert np.all(first["steps"] == batch["lengths"])
  assert np.all((first["correct"] >= 0) & (first["correct"] <= first["steps"]))
  log_px = np.asarray(first["log_px_at_mu"])
  assert np.all(log_px < 0) and np.all(log_px > -np.log(events_lib.NUM_CLASSES) * 32 * 3)


def test_latent_use_at_shuffled_and_prior_z(model_and_batch):
  vae, params, batch = model_and_batch
  sums_fn = jax.jit(likelihood_sums, static_argnums=(0, 4))
  sums = sums_fn(vae, params, batch, jax.random.key(0), 2)
  for name in ("log_px_at_shuffled", "log_px_at_prior"):
    assert sums[name].shape == (6,) and np.all(np.isfinite(sums[name])) and np.all(sums[name] < 0)
  assert set(deterministic_sums(vae, params, batch)) == set(sums)
  # One melody repeated: every neighbour's mu is its own, so the shuffled z is mu.
  repeated = jax.tree.map(lambda x: jnp.repeat(x[:1], 6, axis=0), batch)
  sums = sums_fn(vae, params, repeated, jax.random.key(0), 2)
  np.testing.assert_allclose(sums["log_px_at_shuffled"], sums["log_px_at_mu"], rtol=1e-5)
  assert not np.allclose(sums["log_px_at_prior"], sums["log_px_at_mu"], rtol=1e-5)


def test_onset_pitch_counts_equal_a_numpy_recount(model_and_batch):
  """Teacher-forced onset pitch: at each step where the melody starts a note, the argmax over the
  88 pitch events alone (hold and note-off left out) is its pitch; at mu and at the shuffled z."""
  vae, params, batch = model_and_batch
  sums = jax.jit(likelihood_sums, static_argnums=(0, 4))(vae, params, batch, jax.random.key(0), 2)
  mu, _ = vae.apply({"params": params}, batch["events"], batch["lengths"], batch["steps_per_bar"],
                    method="encode")
  events = np.asarray(batch["events"])
  onsets = ((np.arange(events.shape[1])[None] < np.asarray(batch["lengths"])[:, None])
            & (events >= events_lib.FIRST_PITCH_EVENT))
  np.testing.assert_array_equal(sums["onsets"], onsets.sum(axis=1))
  assert onsets.sum() > 10
  for z, name in ((mu, "onset_pitch_correct_at_mu"),
                  (jnp.roll(mu, 1, axis=0), "onset_pitch_correct_at_shuffled")):
    logits, _ = vae.apply({"params": params}, z, batch["emotion"], batch["events"],
                          batch["steps_per_bar"], method="decode")
    logits = np.asarray(logits)
    pitch = logits[..., events_lib.FIRST_PITCH_EVENT:].argmax(-1) + events_lib.FIRST_PITCH_EVENT
    np.testing.assert_array_equal(sums[name], ((pitch == events) & onsets).sum(axis=1))
    # Never more than the onsets, and not the overall argmax (which may pick hold or note-off).
    assert np.all(np.asarray(sums[name]) <= onsets.sum(axis=1))


def test_a_batchs_start_bar_reaches_a_model_that_reads_where_its_windows_sit(model_and_batch):
  """The harness's teacher-forced figures decode each test window where it sits in its tune
  (model.tune_bar_positions, as it trained): log p(x|mu) moves for windows from bar 4 and not
  for bar 8 (one 8-bar period on); a model without the option ignores start_bar."""
  plain, plain_params, batch = model_and_batch
  hp = model_hparams(32, 8, embed_dim=8, short_term_dim=16, long_term_dim=16, latent_dim=4,
                     conductor_dim=8, decoder_dim=16, attention_dim=8, sample_unroll=1,
                     tune_bar_positions=True)
  placed = HierarchicalVAE(hp)
  params = placed.init(jax.random.key(0), batch["events"], batch["lengths"],
                       batch["steps_per_bar"], batch["emotion"], jax.random.key(1))["params"]

  def log_px(vae, params, start_bar=None):
    located = dict(batch) if start_bar is None else {**batch, "start_bar": jnp.full(6, start_bar)}
    return np.asarray(deterministic_sums(vae, params, located)["log_px_at_mu"])

  np.testing.assert_array_equal(log_px(plain, plain_params, 4), log_px(plain, plain_params))
  np.testing.assert_allclose(log_px(placed, params, 8), log_px(placed, params), rtol=1e-6)
  assert not np.allclose(log_px(placed, params, 4), log_px(placed, params), rtol=1e-4)
