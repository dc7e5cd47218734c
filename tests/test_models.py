"""The modules: shapes and dtypes, numpy references, causality, masking, the two decoder drivers."""

import dataclasses
import functools

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from absl.testing import parameterized

from hrnnvae import losses as losses_lib
from hrnnvae import models as models_lib
from hrnnvae.data import events as events_lib
from hrnnvae.models import attention as attention_lib
from hrnnvae.models import bar_prior as bar_prior_lib
from hrnnvae.models import bars as bars_lib
from hrnnvae.models import decoder as decoder_lib
from hrnnvae.models import nucleus
from hrnnvae.models.cells import TanhRNN
from hrnnvae.models.critics import SequenceClassifier
from hrnnvae.models.encoder import BarEncoder, Encoder, long_term_updates
from hrnnvae.models.vae import HierarchicalVAE

from conftest import model_hparams

B, T = 3, 24


def _hp(**overrides):
  values = dict(embed_dim=8, short_term_dim=12, long_term_dim=10, latent_dim=6, emotion_dim=4,
                conductor_dim=7, decoder_dim=12, attention_dim=8, attention_heads=2,
                classifier_channels=8, sample_unroll=1)
  if overrides.get("hierarchical") is False:  # the bar-reset decoder needs the conductor
    values["decoder"] = "continuous"
  values.update(overrides)
  data_shape = {name: values.pop(name) for name in ("max_steps_per_bar", "max_bars") if name in values}
  attention_window = values.pop("attention_window", 0)  # in steps, not the config's bars
  hp = model_hparams(values.pop("num_steps", T), values.pop("min_steps_per_bar", 8),
                     **data_shape, **values)
  return dataclasses.replace(hp, attention_window=attention_window)


def _batch(seed=0):
  events = jax.random.randint(jax.random.key(seed), (B, T), 0, 90)
  return events, jnp.array([T, 17, 5]), jnp.array([8, 12, 8]), jnp.array([0, 3, 1])


def _numpy_rnn(params, x_BxTxI, update_BxT, h0):
  kernel_in = np.asarray(params["input"]["kernel"])
  bias = np.asarray(params["input"]["bias"])
  kernel_rec = np.asarray(params["recurrent"]["kernel"])
  h, states = np.asarray(h0), []
  for t in range(x_BxTxI.shape[1]):
    new = np.tanh(np.asarray(x_BxTxI[:, t]) @ kernel_in + bias + h @ kernel_rec)
    h = np.where(np.asarray(update_BxT[:, t])[:, None], new, h)
    states.append(h)
  return h, np.stack(states, axis=1)


class TestTanhRNN(chex.TestCase):

  @chex.variants(with_jit=True, without_jit=True)
  def test_scan_equals_a_numpy_loop_and_masked_steps_keep_the_state(self):
    rnn = TanhRNN(5)
    x = jax.random.normal(jax.random.key(0), (B, T, 4))
    update = jax.random.bernoulli(jax.random.key(1), 0.7, (B, T))
    params = rnn.init(jax.random.key(2), x, update)
    final, states = self.variant(rnn.apply)(params, x, update)
    chex.assert_shape(states, (B, T, 5))
    chex.assert_type([final, states], jnp.float32)
    expected_final, expected_states = _numpy_rnn(params["params"]["steps"]["cell"], x, update,
                                                 np.zeros((B, 5), np.float32))
    np.testing.assert_allclose(states, expected_states, atol=1e-5)
    np.testing.assert_allclose(final, expected_final, atol=1e-5)
    held = ~np.asarray(update[:, 1:])
    np.testing.assert_array_equal(np.asarray(states[:, 1:])[held], np.asarray(states[:, :-1])[held])


class TestEncoder(chex.TestCase):

  def test_long_term_stride(self):
    lengths, steps_per_bar = jnp.array([24, 10]), jnp.array([8, 6])
    every_step = long_term_updates(lengths, steps_per_bar, T, 1)
    np.testing.assert_array_equal(every_step, np.arange(T)[None] < np.array([[24], [10]]))
    per_bar = np.asarray(long_term_updates(lengths, steps_per_bar, T, 0))
    assert np.nonzero(per_bar[0])[0].tolist() == [7, 15, 23]
    assert np.nonzero(per_bar[1])[0].tolist() == [5, 9]  # bar ends, then the last real step

  @chex.variants(with_jit=True, without_jit=True)
  @parameterized.product(hierarchical=(True, False), stride=(1, 0))
  def test_padding_never_changes_the_summary(self, hierarchical, stride):
    encoder = Encoder(_hp(hierarchical=hierarchical, long_term_stride=stride))
    events, lengths, steps_per_bar, _ = _batch()
    params = encoder.init(jax.random.key(0), events, lengths, steps_per_bar)
    h = self.variant(encoder.apply)(params, events, lengths, steps_per_bar)
    chex.assert_shape(h, (B, 10 if hierarchical else 12))
    past_end = jnp.arange(T)[None] >= lengths[:, None]
    scribbled = jnp.where(past_end, (events + 7) % 90, events)
    np.testing.assert_array_equal(h, encoder.apply(params, scribbled, lengths, steps_per_bar))


def _additive_numpy(params, h_t, cached_h, valid):
  """Eqs. 3-4 for one query step, written out."""
  w_a, b_a = np.asarray(params["query"]["kernel"]), np.asarray(params["query"]["bias"])
  u_a, v = np.asarray(params["key"]["kernel"]), np.asarray(params["score"]["kernel"])[:, 0]
  e = np.array([v @ np.tanh(w_a.T @ h_t + u_a.T @ h_k + b_a) for h_k in cached_h])
  e = np.where(valid, e, -np.inf)
  alpha = np.exp(e - e.max()) / np.exp(e - e.max()).sum()
  return alpha @ cached_h, alpha


def test_attending_over_bars_sets_the_reach_in_the_longest_bars_steps_and_nothing_else():
  hp = _hp(max_steps_per_bar=12, attention_window=48)
  assert hp.attending_over(0) is hp
  reach = hp.attending_over(3)
  assert reach.attention_window == 36
  assert dataclasses.replace(reach, attention_window=48) == hp


def test_additive_attention_equals_equations_3_and_4():
  attention = attention_lib.AdditiveAttention(6)
  h = jax.random.normal(jax.random.key(0), (2, 1, 5))
  cached = jax.random.normal(jax.random.key(1), (2, 7, 5))
  visible = attention_lib.causal_mask(jnp.array([3]), 7, window=7)
  attend = lambda module, h, cached: module(h, *module.keys_values(cached), visible)
  params = attention.init(jax.random.key(2), h, cached, method=attend)
  c, alpha = attention.apply(params, h, cached, method=attend)
  for row in range(2):
    expected_c, expected_alpha = _additive_numpy(params["params"], np.asarray(h[row, 0]),
                                                 np.asarray(cached[row]), np.asarray(visible[0]))
    np.testing.assert_allclose(alpha[row, 0], expected_alpha, atol=1e-6)
    np.testing.assert_allclose(c[row, 0], expected_c, atol=1e-5)


def test_masks():
  mask = attention_lib.causal_mask(jnp.arange(4), 4, window=2)
  np.testing.assert_array_equal(mask, [[1, 0, 0, 0], [1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 1]])
  assert attention_lib.ring_valid(jnp.asarray(2), 5).tolist() == [[True, True, True, False, False]]
  assert attention_lib.ring_valid(jnp.asarray(9), 5).all()


def _teacher_forced(vae, params, z, emotion, events, steps_per_bar):
  """(logits, alpha) of the decoder alone, for a given z."""
  return vae.apply(params, z, emotion, events, steps_per_bar, method=HierarchicalVAE.decode)


class TestDecoder(chex.TestCase):

  @chex.variants(with_jit=True, without_jit=True)
  @parameterized.product(attention=("additive", "dot_product"), window=(0, 16))
  def test_attention_is_causal_and_normalised(self, attention, window):
    hp = _hp(attention=attention, attention_window=window)
    vae = HierarchicalVAE(hp)
    events, lengths, steps_per_bar, emotion = _batch()
    params = vae.init(jax.random.key(0), events, lengths, steps_per_bar, emotion, jax.random.key(1))
    z = jax.random.normal(jax.random.key(2), (B, hp.latent_dim))
    decode = self.variant(lambda p, e: _teacher_forced(vae, p, z, emotion, e, steps_per_bar))
    logits, alpha = decode(params, events)
    chex.assert_shape(logits, (B, T, hp.num_classes))
    chex.assert_shape(alpha, (B, T, T))
    np.testing.assert_allclose(alpha.sum(-1), 1.0, atol=1e-5)
    # Query t gives exactly zero weight to every future step, and to steps outside the window.
    steps = np.arange(T)
    hidden = (steps[None, :] > steps[:, None]) | (steps[None, :] <= steps[:, None] - (window or T))
    assert (np.asarray(alpha)[:, hidden] == 0.0).all()
    assert (np.asarray(alpha)[:, ~hidden] > 0.0).all()
    # With z fixed, changing the events from step 10 on never changes an output up to step 10
    # (the output at step t reads the events before t).
    changed = events.at[:, 10:].set((events[:, 10:] + 5) % 90)
    changed_logits, _ = decode(params, changed)
    np.testing.assert_array_equal(logits[:, :11], changed_logits[:, :11])
    assert not np.allclose(logits[:, 11:], changed_logits[:, 11:])

  @chex.variants(with_jit=True, without_jit=True)
  @parameterized.parameters(("bar_reset", True, False), ("bar_reset", True, True),
                            ("bar_reset", True, (2,)), ("continuous", True, False),
                            ("continuous", False, True), ("bar_reset", True, False, 5),
                            ("continuous", True, True, 5))
  def test_free_running_and_teacher_forcing_agree(self, decoder, hierarchical, lookback,
                                                  bar_latent_dim=0):
    """lookback: False, True (1 and 2 bars back), or the bar distances themselves."""
    bar_distances = lookback if isinstance(lookback, tuple) else (1, 2)
    hp = _hp(hierarchical=hierarchical, decoder=decoder, lookback_input=bool(lookback),
             lookback_bars=bar_distances, bar_latent_dim=bar_latent_dim)
    vae = HierarchicalVAE(hp)
    events, lengths, steps_per_bar, emotion = _batch()
    params = vae.init(jax.random.key(0), events, lengths, steps_per_bar, emotion, jax.random.key(1))
    z = jax.random.normal(jax.random.key(2), (B, hp.latent_size))
    keys = jax.random.split(jax.random.key(3), B)
    generate = self.variant(lambda p: vae.apply(p, z, emotion, steps_per_bar, T, keys,
                                                method=HierarchicalVAE.generate))
    sampled = generate(params)
    chex.assert_shape(sampled["events"], (B, T))
    chex.assert_shape([sampled["logits"], sampled["gumbel"]], (B, T, hp.num_classes))
    chex.assert_type(sampled["events"], jnp.int32)
    forced, _ = _teacher_forced(vae, params, z, emotion, sampled["events"], steps_per_bar)
    np.testing.assert_allclose(forced, sampled["logits"], atol=1e-5)
    np.testing.assert_array_equal(jnp.argmax(forced + sampled["gumbel"], -1), sampled["events"])


class TestBarLatents(chex.TestCase):
  """model.bar_latent_dim: z, then one latent per bar, encoded from that bar alone."""

  def _model(self):
    hp = _hp(bar_latent_dim=5)
    vae = HierarchicalVAE(hp)
    events, lengths, steps_per_bar, emotion = _batch()
    params = vae.init(jax.random.key(0), events, lengths, steps_per_bar, emotion, jax.random.key(1))
    return hp, vae, params, (events, lengths, steps_per_bar, emotion)

  def test_each_bar_has_its_own_latent_and_bars_past_the_end_are_the_prior(self):
    hp, vae, params, (events, lengths, steps_per_bar, emotion) = self._model()
    assert hp.bar_latent_slots == 3 and hp.latent_size == hp.latent_dim + 3 * 5
    encode = jax.jit(lambda e: vae.apply(params, e, lengths, steps_per_bar,
                                         method=HierarchicalVAE.encode))
    mu, log_var = encode(events)
    chex.assert_shape([mu, log_var], (B, hp.latent_size))
    bar_mu = np.asarray(mu[:, hp.latent_dim:]).reshape(B, 3, 5)
    bar_log_var = np.asarray(log_var[:, hp.latent_dim:]).reshape(B, 3, 5)
    # Melody 1 (17 steps of 12-step bars) has 2 bars, melody 2 (5 steps) has 1: past them,
    # mu 0 and log_var 0, so those bars cost no KL and decode from N(0, I).
    bars_held = np.array([3, 2, 1])
    past_end = np.arange(3)[None] >= bars_held[:, None]
    assert (bar_mu[past_end] == 0).all() and (bar_log_var[past_end] == 0).all()
    assert (bar_mu[~past_end] != 0).all()
    kl_of_bars = losses_lib.kl_to_standard_normal(mu[:, hp.latent_dim:], log_var[:, hp.latent_dim:])
    kl_of_held_bars = [losses_lib.kl_to_standard_normal(jnp.asarray(bar_mu[b, :bars_held[b]]),
                                                        jnp.asarray(bar_log_var[b, :bars_held[b]])).sum()
                       for b in range(B)]
    np.testing.assert_allclose(kl_of_bars, kl_of_held_bars, rtol=1e-5)
    # Melody 0's bar 1 (steps 8-15) changed: its slot moves, its other bars' slots do not.
    changed = events.at[0, 8:16].set((events[0, 8:16] + 7) % 90)
    changed_mu = np.asarray(encode(changed)[0])
    bar_changed = np.abs(changed_mu[0, hp.latent_dim:].reshape(3, 5) - bar_mu[0]).max(-1) > 0
    np.testing.assert_array_equal(bar_changed, [False, True, False])
    np.testing.assert_array_equal(changed_mu[1:], np.asarray(mu)[1:])

  def test_a_bar_latent_changes_its_bar_and_the_later_ones_never_the_earlier(self):
    hp, vae, params, (events, _, steps_per_bar, emotion) = self._model()
    z = jax.random.normal(jax.random.key(2), (B, hp.latent_size))
    decode = jax.jit(lambda z: _teacher_forced(vae, params, z, emotion, events, steps_per_bar)[0])
    logits = np.asarray(decode(z))
    moved = np.asarray(decode(z.at[:, hp.latent_dim + 5:hp.latent_dim + 10].add(3.0)))  # bar 1
    for b, spb in enumerate(np.asarray(steps_per_bar)):
      np.testing.assert_array_equal(moved[b, :spb], logits[b, :spb])
      assert np.abs(moved[b, spb:2 * spb] - logits[b, spb:2 * spb]).min(-1).max() > 0

  def test_a_decode_longer_than_the_windows_restates_their_bar_latents_in_order(self):
    hp, vae, params, _ = self._model()
    z = jnp.arange(2 * hp.latent_size, dtype=jnp.float32).reshape(2, hp.latent_size)
    decoder = vae.bind(params).decoder
    global_z, bars = decoder._split_latents(z, 7)
    np.testing.assert_array_equal(global_z, z[:, :hp.latent_dim])
    slots = np.asarray(z[:, hp.latent_dim:]).reshape(2, 3, 5)
    np.testing.assert_array_equal(bars, slots[:, [0, 1, 2, 0, 1, 2, 0]])

  def test_the_learned_prior_draws_what_it_scores_and_reads_only_earlier_bars(self):
    hp = _hp(bar_latent_dim=5, bar_latent_prior="learned")
    vae = HierarchicalVAE(hp)
    events, lengths, steps_per_bar, emotion = _batch()
    params = vae.init(jax.random.key(0), events, lengths, steps_per_bar, emotion, jax.random.key(1))
    z = jax.random.normal(jax.random.key(2), (B, hp.latent_dim))
    noise = jax.random.normal(jax.random.key(3), (B, 3, 5))
    latents = vae.apply(params, jnp.concatenate([z, noise.reshape(B, -1)], axis=-1), emotion,
                        method=HierarchicalVAE.prior_latents)
    chex.assert_shape(latents, (B, hp.latent_size))
    np.testing.assert_array_equal(latents[:, :hp.latent_dim], z)
    bars = latents[:, hp.latent_dim:].reshape(B, 3, 5)
    prior = vae.bind(params).bar_prior
    mu, log_var = prior(z, vae.bind(params).emotion_embed(emotion), bars).values()
    np.testing.assert_allclose((bars - mu) * jnp.exp(-0.5 * log_var), noise, atol=1e-5)
    moved_mu, moved_log_var = prior(z, vae.bind(params).emotion_embed(emotion),
                                    bars.at[:, 1].add(2.0)).values()
    np.testing.assert_array_equal(moved_mu[:, :2], mu[:, :2])
    np.testing.assert_array_equal(moved_log_var[:, :2], log_var[:, :2])
    assert np.abs(np.asarray(moved_mu[:, 2] - mu[:, 2])).max() > 0
    # The KL counts the bars each melody holds (3, 2 and 1) against the learned prior.
    out = vae.apply(params, events, lengths, steps_per_bar, emotion, jax.random.key(4))
    q_mu = out["mu"][:, hp.latent_dim:].reshape(B, 3, 5)
    q_log_var = out["log_var"][:, hp.latent_dim:].reshape(B, 3, 5)
    p_mu, p_log_var = prior(out["z"][:, :hp.latent_dim], vae.bind(params).emotion_embed(emotion),
                            out["z"][:, hp.latent_dim:].reshape(B, 3, 5)).values()
    bar_kl = 0.5 * np.sum(p_log_var - q_log_var + (np.exp(q_log_var) + (q_mu - p_mu) ** 2)
                          * np.exp(-p_log_var) - 1.0, axis=-1)
    held = np.arange(3)[None] < np.array([3, 2, 1])[:, None]
    expected = (losses_lib.kl_to_standard_normal(out["mu"][:, :hp.latent_dim],
                                                 out["log_var"][:, :hp.latent_dim])
                + np.where(held, bar_kl, 0.0).sum(-1))
    np.testing.assert_allclose(out["kl"], expected, rtol=1e-5)

  def _mixture(self, gate_bias=None, copy_log_var=None):
    """A 3-slot copy-mixture model; gate_bias / copy_log_var, when given, replace the prior's
    gate (its kernel zeroed: every bar's copy share is sigmoid(gate_bias)) and copy variance."""
    hp = _hp(bar_latent_dim=5, bar_latent_prior="copy_mixture")
    vae = HierarchicalVAE(hp)
    events, lengths, steps_per_bar, emotion = _batch()
    params = vae.init(jax.random.key(0), events, lengths, steps_per_bar, emotion, jax.random.key(1))
    prior_params = dict(params["params"]["bar_prior"])
    if gate_bias is not None:
      prior_params["gate"] = {"kernel": jnp.zeros_like(prior_params["gate"]["kernel"]),
                              "bias": jnp.full_like(prior_params["gate"]["bias"], gate_bias)}
    if copy_log_var is not None:
      prior_params["copy_log_var"] = jnp.full_like(prior_params["copy_log_var"], copy_log_var)
    params = {"params": {**params["params"], "bar_prior": prior_params}}
    return hp, vae, params, (events, lengths, steps_per_bar, emotion)

  def test_the_copy_mixture_scores_its_exact_density_and_bounds_the_kl(self):
    hp, vae, params, (events, lengths, steps_per_bar, emotion) = self._mixture()
    bound = vae.bind(params)
    e = bound.emotion_embed(emotion)
    z = jax.random.normal(jax.random.key(2), (B, hp.latent_dim))
    bars = jax.random.normal(jax.random.key(3), (B, 3, 5))
    prior = bound.bar_prior(z, e, bars)
    chex.assert_shape(prior["log_weights"], (B, 3, 4))
    weights = np.exp(np.asarray(prior["log_weights"]))
    np.testing.assert_allclose(weights.sum(-1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(weights[:, 0, 0], 1.0)  # bar 0: nothing to copy
    np.testing.assert_allclose(weights[:, 1, 2:], 0.0, atol=1e-12)  # bar 1 copies only bar 0

    def normal(x, m, lv):
      return np.exp(-0.5 * np.sum((x - m) ** 2 / np.exp(lv) + lv + np.log(2 * np.pi), -1))
    bars_np, copy_lv = np.asarray(bars), np.asarray(prior["copy_log_var"])
    density = weights[..., 0] * normal(bars_np, np.asarray(prior["mu"]), np.asarray(prior["log_var"]))
    for k in range(3):
      density = density + weights[..., 1 + k] * normal(bars_np, bars_np[:, k:k + 1], copy_lv)
    np.testing.assert_allclose(bound.bar_prior.log_prob(z, e, bars), np.log(density), rtol=1e-4)
    # The KL bound: above a Monte Carlo estimate of the true KL, below every single component's.
    q_mu = bars + 0.3
    q_log_var = jnp.full_like(bars, -1.0)
    kl = np.asarray(bound.bar_prior.kl(z, e, bars, q_mu, q_log_var))
    draws = q_mu + jnp.exp(-0.5) * jax.random.normal(jax.random.key(5), (8000,) + bars.shape)
    log_q = np.asarray(bar_prior_lib.gaussian_log_prob(draws, q_mu, q_log_var))
    # Bar n's draws scored with the earlier bars held at `bars` (the prior's inputs).
    score = jax.vmap(lambda d, n: bound.bar_prior.log_prob(z, e, bars.at[:, n].set(d[:, n]))[:, n],
                     in_axes=(0, None))
    log_p = np.stack([np.asarray(score(draws, n)) for n in range(3)], axis=-1)
    excess = log_q - log_p
    true_kl, error = excess.mean(0), excess.std(0) / np.sqrt(len(excess))
    assert np.all(kl >= true_kl - 4 * error), (kl, true_kl, error)
    new_only = np.asarray(bar_prior_lib.kl_between_gaussians(q_mu, q_log_var, prior["mu"],
                                                             prior["log_var"])) - np.log(weights[..., 0])
    assert np.all(kl <= new_only + 1e-4)
    np.testing.assert_allclose(kl[:, 0], new_only[:, 0], rtol=1e-5)  # one component: exact

  def test_the_copy_mixture_draws_restate_earlier_bars_as_often_as_it_says(self):
    # Gate 0 (each later bar copies with probability 1/2) and a tiny copy variance: a copy is
    # an earlier bar again; a new bar is mu + sigma * noise, as the Gaussian prior's draw.
    hp, vae, params, (events, lengths, steps_per_bar, emotion) = self._mixture(0.0, -30.0)
    bound = vae.bind(params)
    draws = 2000
    z = jax.random.normal(jax.random.key(2), (draws, hp.latent_dim))
    e = bound.emotion_embed(jnp.zeros((draws,), jnp.int32))
    noise = jax.random.normal(jax.random.key(3), (draws, 3, 5))
    bars = np.asarray(bound.bar_prior.draw(z, e, noise))
    restates_0 = np.abs(bars[:, 1] - bars[:, 0]).max(-1) < 1e-4
    assert abs(restates_0.mean() - 0.5) < 0.04, restates_0.mean()
    restates = (np.abs(bars[:, 2] - bars[:, 0]).max(-1) < 1e-4) | (
        np.abs(bars[:, 2] - bars[:, 1]).max(-1) < 1e-4)
    assert abs(restates.mean() - 0.5) < 0.04, restates.mean()
    # Where bar 1 is new, it is the new component's mu + sigma * noise (noise_0 re-drawn).
    prior = bound.bar_prior(z, e, jnp.asarray(bars))
    new = ~restates_0
    standardized = (bars[new, 1] - np.asarray(prior["mu"])[new, 1]) * np.exp(
        -0.5 * np.asarray(prior["log_var"])[new, 1])
    np.testing.assert_allclose(standardized[:, 1:], np.asarray(noise)[new, 1, 1:], atol=1e-4)
    assert abs(standardized[:, 0].mean()) < 0.1 and abs(standardized[:, 0].std() - 1.0) < 0.1
    # Gate closed: the draw is the Gaussian one, noise in, noise back.
    hp, vae, params, _ = self._mixture(-50.0)
    bound = vae.bind(params)
    bars = bound.bar_prior.draw(z[:8], e[:8], noise[:8])
    prior = bound.bar_prior(z[:8], e[:8], bars)
    standardized = (bars - prior["mu"]) * jnp.exp(-0.5 * prior["log_var"])
    np.testing.assert_allclose(standardized[..., 1:], noise[:8, :, 1:], atol=1e-4)

  def test_with_the_standard_prior_the_kl_is_the_whole_latent_against_n01(self):
    hp, vae, params, (events, lengths, steps_per_bar, emotion) = self._model()
    out = vae.apply(params, events, lengths, steps_per_bar, emotion, jax.random.key(4))
    np.testing.assert_allclose(out["kl"], losses_lib.kl_to_standard_normal(out["mu"], out["log_var"]))

  def test_it_needs_the_bar_encoder_and_the_conductor(self):
    with pytest.raises(ValueError, match="bar_latent_dim"):
      _hp(bar_latent_dim=5, encoder="continuous")
    with pytest.raises(ValueError, match="bar_latent_dim"):
      _hp(bar_latent_dim=5, family="lstm_lm", use_vae=False)


  def test_bar_latent_dropout_decodes_z_alone_for_the_dropped_and_prior_samples(self):
    hp = _hp(bar_latent_dim=5, bar_latent_dropout=0.5)
    assert hp.prior_drops_bar_latents and hp.fitted_latent_size == hp.latent_dim
    vae = HierarchicalVAE(hp)
    events, lengths, steps_per_bar, emotion = _batch()
    params = vae.init(jax.random.key(0), events, lengths, steps_per_bar, emotion, jax.random.key(1))
    full = vae.apply(params, events, lengths, steps_per_bar, emotion, jax.random.key(4))
    kl_z = losses_lib.kl_to_standard_normal(full["mu"][:, :hp.latent_dim],
                                            full["log_var"][:, :hp.latent_dim])
    # Evaluation (no drop flag) is untouched: every melody keeps its bars' latents and pays them.
    np.testing.assert_allclose(full["kl"], losses_lib.kl_to_standard_normal(full["mu"], full["log_var"]))
    seen = set()
    # Compiled once for the 12 seeds: run eagerly, every call compiled its scans again.
    apply = jax.jit(vae.apply, static_argnames=("drop_bar_latents", "method"))
    teacher_forced = jax.jit(functools.partial(_teacher_forced, vae))
    for seed in range(12):
      key = jax.random.key(seed)
      kept = apply(params, events, lengths, steps_per_bar, emotion, key)
      out = apply(params, events, lengths, steps_per_bar, emotion, key, drop_bar_latents=True,
                  method=HierarchicalVAE.reconstruct)
      np.testing.assert_array_equal(out["z"][:, :hp.latent_dim], kept["z"][:, :hp.latent_dim])
      for b in range(B):
        dropped = not np.asarray(out["z"][b, hp.latent_dim:]).any()
        seen.add(dropped)
        if dropped:  # decodes z alone and pays z's KL alone
          np.testing.assert_allclose(out["kl"][b], kl_z[b], rtol=1e-5)
        else:  # the whole latent, as without the flag
          np.testing.assert_array_equal(out["z"][b], kept["z"][b])
          np.testing.assert_allclose(out["kl"][b], kept["kl"][b], rtol=1e-5)
      logits = teacher_forced(params, out["z"], emotion, events, steps_per_bar)[0]
      np.testing.assert_allclose(out["logits"], logits, rtol=1e-5, atol=1e-5)
    assert seen == {True, False}  # both happen at rate 0.5 over 36 melodies
    # A prior latent carries z alone: its bars' part is zero.
    noise = jax.random.normal(jax.random.key(5), (B, hp.latent_size))
    prior = vae.apply(params, noise, emotion, method=HierarchicalVAE.prior_latents)
    np.testing.assert_array_equal(prior[:, :hp.latent_dim], noise[:, :hp.latent_dim])
    assert not np.asarray(prior[:, hp.latent_dim:]).any()

  def test_bar_latent_dropout_needs_bar_latents_under_the_standard_prior(self):
    with pytest.raises(ValueError, match="bar_latent_dropout"):
      _hp(bar_latent_dropout=0.5)
    with pytest.raises(ValueError, match="bar_latent_dropout"):
      _hp(bar_latent_dim=5, bar_latent_prior="learned", bar_latent_dropout=0.5)
    with pytest.raises(ValueError, match="bar_latent_dropout"):
      _hp(bar_latent_dim=5, bar_latent_dropout=1.0)

@pytest.mark.parametrize("lookback", [False, True])
def test_emotion_guidance_samples_from_the_guided_mix_of_two_teacher_forced_decodes(lookback):
  """The guided sampler's logits are log_softmax(n + s (r - n)) of the teacher-forced logits under
  the requested emotion (r) and the neutral one (n, the mean embedding) on the same events; its
  events are their Gumbel-max; scale 1 samples exactly what the unguided sampler does."""
  hp = _hp(lookback_input=lookback)
  vae = HierarchicalVAE(hp)
  events, lengths, steps_per_bar, emotion = _batch()
  params = vae.init(jax.random.key(0), events, lengths, steps_per_bar, emotion, jax.random.key(1))
  z = jax.random.normal(jax.random.key(2), (B, hp.latent_dim))
  keys = jax.random.split(jax.random.key(3), B)
  generate = jax.jit(lambda p, s: vae.apply(p, z, emotion, steps_per_bar, T, keys, 1.0, s,
                                            method=HierarchicalVAE.generate))
  guided = generate(params, 3.0)
  embedding = params["params"]["emotion_embed"]["embedding"]
  neutral_BxE = jnp.broadcast_to(embedding.mean(0), (B, hp.emotion_dim))

  def forced(emotion_BxE):
    return vae.apply(params, z, emotion_BxE, guided["events"], steps_per_bar,
                     method=lambda m, *a: m.decoder.teacher_forced(*a))[0]

  requested = np.asarray(jax.nn.log_softmax(forced(embedding[emotion])))
  neutral = np.asarray(jax.nn.log_softmax(forced(neutral_BxE)))
  mixed = neutral + 3.0 * (requested - neutral)
  mixed -= np.log(np.exp(mixed).sum(-1, keepdims=True))
  np.testing.assert_allclose(guided["logits"], mixed, atol=1e-4)
  np.testing.assert_array_equal(np.argmax(mixed + np.asarray(guided["gumbel"]), -1), guided["events"])
  plain = vae.apply(params, z, emotion, steps_per_bar, T, keys, method=HierarchicalVAE.generate)
  np.testing.assert_array_equal(generate(params, 1.0)["events"], plain["events"])
  assert not np.array_equal(guided["events"], plain["events"])


def test_no_vae_latent_is_deterministic():
  vae = HierarchicalVAE(_hp(use_vae=False))
  events, lengths, steps_per_bar, emotion = _batch()
  params = vae.init(jax.random.key(0), events, lengths, steps_per_bar, emotion, jax.random.key(1))
  assert "log_var" not in params["params"]
  one = vae.apply(params, events, lengths, steps_per_bar, emotion, jax.random.key(1))
  two = vae.apply(params, events, lengths, steps_per_bar, emotion, jax.random.key(2))
  assert one["log_var"] is None
  np.testing.assert_array_equal(one["z"], one["mu"])
  np.testing.assert_array_equal(one["logits"], two["logits"])


class TestSequenceClassifier(chex.TestCase):

  @chex.variants(with_jit=True, without_jit=True)
  def test_shape_and_padding_is_ignored(self):
    classifier = SequenceClassifier(4, 8)
    events = jax.nn.one_hot(jax.random.randint(jax.random.key(0), (B, 32), 0, 90), 90)
    mask = jnp.arange(32)[None] < jnp.array([[32], [16], [8]])
    params = classifier.init(jax.random.key(1), events, mask)
    logits = self.variant(classifier.apply)(params, events, mask)
    chex.assert_shape(logits, (B, 4))
    chex.assert_tree_all_finite(logits)
    scribbled = jnp.where(mask[..., None], events, jnp.roll(events, 3, axis=-1))
    np.testing.assert_allclose(classifier.apply(params, scribbled, mask), logits, atol=1e-6)


@pytest.mark.parametrize("family", ["lstm_lm", "musicvae_like"])
def test_baselines_are_causal_and_their_drivers_agree(family):
  hp = _hp(family=family, use_vae=family != "lstm_lm")
  model = models_lib.build(hp)
  events, lengths, steps_per_bar, emotion = _batch()
  params = model.init(jax.random.key(0), events, lengths, steps_per_bar, emotion, jax.random.key(1))
  out = model.apply(params, events, lengths, steps_per_bar, emotion, jax.random.key(1))
  chex.assert_shape(out["logits"], (B, T, hp.num_classes))
  chex.assert_shape(out["mu"], (B, hp.latent_dim))
  assert (out["log_var"] is None) == (family == "lstm_lm")
  z = jax.random.normal(jax.random.key(2), (B, hp.latent_dim))
  decode = jax.jit(lambda e: model.apply(params, z, emotion, e, steps_per_bar, method="decode")[0])
  changed = events.at[:, 10:].set((events[:, 10:] + 5) % 90)
  np.testing.assert_array_equal(decode(events)[:, :11], decode(changed)[:, :11])
  sampled = model.apply(params, z, emotion, steps_per_bar, T, jax.random.split(jax.random.key(3), B),
                        method="generate")
  np.testing.assert_allclose(decode(sampled["events"]), sampled["logits"], atol=1e-5)
  if family == "musicvae_like":  # the bidirectional encoder ignores padding
    past_end = jnp.arange(T)[None] >= lengths[:, None]
    scribbled = jnp.where(past_end, (events + 7) % 90, events)
    encode = lambda e: model.apply(params, e, lengths, steps_per_bar, method="encode")[0]
    np.testing.assert_allclose(encode(scribbled), encode(events), atol=1e-6)


class TestBars(chex.TestCase):

  def test_grid_round_trip_and_positions(self):
    events, lengths, steps_per_bar, _ = _batch()
    grid = bars_lib.grid_shape(T, 8, 16)
    on_grid, real = bars_lib.to_grid(events, steps_per_bar, lengths, grid)
    chex.assert_shape([on_grid, real], (B,) + grid)
    # Melody 1 (12 steps a bar, 17 real steps): bar 1 holds steps 12..16, then empty cells.
    np.testing.assert_array_equal(on_grid[1, 1, :5], events[1, 12:17])
    assert np.asarray(real[1]).sum() == 17 and not np.asarray(real[1, 1, 5:]).any()
    back = bars_lib.from_grid(on_grid, steps_per_bar, T)
    mask = np.arange(T)[None] < np.asarray(lengths)[:, None]
    np.testing.assert_array_equal(np.asarray(back)[mask], np.asarray(events)[mask])
    step_in_bar, bar = bars_lib.time_positions(jnp.array([12]), 30)
    features = np.asarray(bars_lib.position_features(step_in_bar, bar))[0]
    chex.assert_shape(features, (30, bars_lib.POSITION_DIM))
    np.testing.assert_array_equal(features[:, :bars_lib.MAX_STEPS_PER_BAR].argmax(-1),
                                  np.arange(30) % 12)
    beat = features[:, bars_lib.MAX_STEPS_PER_BAR:bars_lib.MAX_STEPS_PER_BAR + 4].argmax(-1)
    np.testing.assert_array_equal(beat, np.arange(30) % 4)

  @parameterized.parameters(True, False)
  def test_bar_encoder_ignores_padding_and_its_grid(self, position_input):
    hp = _hp(position_input=position_input)
    encoder = BarEncoder(hp)
    events, lengths, steps_per_bar, _ = _batch()
    params = encoder.init(jax.random.key(0), events, lengths, steps_per_bar)
    summary = encoder.apply(params, events, lengths, steps_per_bar)
    chex.assert_shape(summary, (B, 2 * hp.long_term_dim))
    past_end = jnp.arange(T)[None] >= lengths[:, None]
    scribbled = jnp.where(past_end, (events + 7) % 90, events)
    np.testing.assert_allclose(encoder.apply(params, scribbled, lengths, steps_per_bar), summary,
                               atol=1e-6)
    wider = encoder.apply(params, events, lengths, steps_per_bar, (5, 20))
    np.testing.assert_allclose(wider, summary, atol=1e-6)
    # It reads both ends: changing the first event changes the summary.
    changed = events.at[:, 0].set((events[:, 0] + 1) % 90)
    assert not np.allclose(encoder.apply(params, changed, lengths, steps_per_bar), summary)

  @parameterized.parameters(("bar_reset", True), ("continuous", False))
  def test_only_the_conductor_crosses_a_bar_line(self, decoder, restarts):
    """With attention limited to the current step, bar 1's outputs depend on bar 0 only through
    the previous-event input at the bar line when the decoder restarts at every bar."""
    hp = _hp(decoder=decoder, attention_window=1)
    vae = HierarchicalVAE(hp)
    events, lengths, _, emotion = _batch()
    steps_per_bar = jnp.array([8, 8, 8])
    params = vae.init(jax.random.key(0), events, lengths, steps_per_bar, emotion, jax.random.key(1))
    z = jax.random.normal(jax.random.key(2), (B, hp.latent_dim))
    decode = lambda e: vae.apply(params, z, emotion, e, steps_per_bar, method="decode")[0]
    changed = events.at[:, :7].set((events[:, :7] + 3) % 90)  # bar 0 but its last step
    same = np.allclose(decode(events)[:, 8:], decode(changed)[:, 8:], atol=1e-6)
    assert same == restarts


def test_bar_reset_needs_the_conductor():
  with pytest.raises(ValueError, match="bar_reset"):
    _hp(hierarchical=False, decoder="bar_reset").validate()
  _hp(hierarchical=False, decoder="continuous").validate()


@pytest.mark.slow
@pytest.mark.parametrize("decoder", ["bar_reset", "continuous"])
def test_bfloat16_matmuls_keep_float32_params_and_logits_close_to_float32(decoder):
  """compute_dtype=bfloat16: the same parameter tree (an f32 export loads into it), float32
  logits within bfloat16's precision of the float32 model's, and finite gradients."""
  events, lengths, steps_per_bar, emotion = _batch()
  full, half = (HierarchicalVAE(_hp(decoder=decoder, compute_dtype=dtype))
                for dtype in ("float32", "bfloat16"))
  # Compiled whole: op by op, the bfloat16 model's passes compiled some 400 small programs that no
  # other test shares (20 s of a 28-s test).
  params = full.init(jax.random.key(0), events, lengths, steps_per_bar, emotion, jax.random.key(1))
  half_params = jax.jit(half.init)(jax.random.key(0), events, lengths, steps_per_bar, emotion,
                                   jax.random.key(1))
  chex.assert_trees_all_equal_shapes_and_dtypes(params, half_params)
  chex.assert_trees_all_equal_dtypes(params, jax.tree.map(lambda x: x.astype(jnp.float32), params))
  out_full = jax.jit(full.apply)(params, events, lengths, steps_per_bar, emotion, jax.random.key(1))
  out_half = jax.jit(half.apply)(params, events, lengths, steps_per_bar, emotion, jax.random.key(1))
  chex.assert_type(out_half["logits"], jnp.float32)
  np.testing.assert_allclose(out_half["logits"], out_full["logits"], atol=0.1)
  assert not np.array_equal(out_half["logits"], out_full["logits"])  # bfloat16 really was used

  def loss(p):
    return half.apply(p, events, lengths, steps_per_bar, emotion, jax.random.key(1))["logits"].mean()
  assert all(np.isfinite(g).all() for g in jax.tree.leaves(jax.jit(jax.grad(loss))(params)))


def test_bfloat16_cache_samples_with_a_bfloat16_ring():
  hp = _hp(cache_dtype="bfloat16", attention_window=8)
  vae = HierarchicalVAE(hp)
  events, lengths, steps_per_bar, emotion = _batch()
  params = vae.init(jax.random.key(0), events, lengths, steps_per_bar, emotion, jax.random.key(1))
  z = jax.random.normal(jax.random.key(2), (B, hp.latent_dim))
  keys = jax.random.split(jax.random.key(3), B)
  sampled = vae.apply(params, z, emotion, steps_per_bar, T, keys, method=HierarchicalVAE.generate)
  chex.assert_shape(sampled["events"], (B, T))
  full = HierarchicalVAE(_hp(attention_window=8)).apply(
      params, z, emotion, steps_per_bar, T, keys, method=HierarchicalVAE.generate)
  np.testing.assert_allclose(sampled["logits"][:, 0], full["logits"][:, 0], atol=0.05)
  jaxpr = str(jax.make_jaxpr(lambda p: vae.apply(p, z, emotion, steps_per_bar, T, keys,
                                                 method=HierarchicalVAE.generate))(params))
  assert "bf16[3,8,8]" in jaxpr  # the ring of keys: batch 3, 8 slots, attention_dim 8


@pytest.mark.parametrize("unknown", [{"compute_dtype": "float16"}, {"cache_dtype": "int8"}])
def test_unknown_dtypes_are_refused(unknown):
  with pytest.raises(ValueError, match="must be one of"):
    _hp(**unknown).validate()


def _numpy_lookback(events, steps_per_bar, none, lookback_bars=(1, 2)):
  """The lookback ids by a plain loop: last pitch started before t, then the events k bars back
  for each k of lookback_bars."""
  batch, steps = events.shape
  out = np.full((batch, steps, 1 + len(lookback_bars)), none)
  for b in range(batch):
    sounding = none
    for t in range(steps):
      out[b, t, 0] = sounding
      for slot, k in enumerate(lookback_bars, start=1):
        if t - k * steps_per_bar[b] >= 0:
          out[b, t, slot] = events[b, t - k * steps_per_bar[b]]
      if events[b, t] >= 2:
        sounding = events[b, t]
  return out


@pytest.mark.parametrize("lookback_bars", [(1, 2), (1, 3), (2,)])
def test_lookback_events_equal_a_numpy_loop_and_the_sampler_step(lookback_bars):
  events = np.asarray(jax.random.randint(jax.random.key(4), (B, T), 0, 6))  # many holds, offs
  steps_per_bar = np.array([8, 12, 6])
  expected = _numpy_lookback(events, steps_per_bar, 90, lookback_bars)
  assert (expected[:, :, -1] != 90).any()  # the farthest slot is reached inside T
  got = bars_lib.lookback_events(jnp.asarray(events), jnp.asarray(steps_per_bar), 2, 90,
                                 lookback_bars)
  chex.assert_type(got, jnp.int32)
  np.testing.assert_array_equal(got, expected)
  assert (expected[:, :, 0] != 90).any() and (expected[:, :, 0] == 90).any()
  # The free-running form, fed the same history, gives the same ids at every step.
  sounding = np.full(B, 90)
  for t in range(T):
    history = np.where(np.arange(T)[None] < t, events, 90)
    step = bars_lib.lookback_step(jnp.asarray(history), jnp.asarray(sounding), t,
                                  jnp.asarray(steps_per_bar), 90, lookback_bars)
    np.testing.assert_array_equal(step, expected[:, t])
    sounding = np.where(events[:, t] >= 2, events[:, t], sounding)


def test_lookback_input_changes_only_later_steps():
  """The decoder with lookback stays causal: editing step 10 changes no output up to step 10, and
  it does change the output a bar later through the 1-bar-back input."""
  hp = _hp(lookback_input=True)
  vae = HierarchicalVAE(hp)
  events, lengths, steps_per_bar, emotion = _batch()
  params = vae.init(jax.random.key(0), events, lengths, steps_per_bar, emotion, jax.random.key(1))
  assert "lookback" in params["params"]["decoder"]["step"]
  z = jax.random.normal(jax.random.key(2), (B, hp.latent_dim))
  logits, _ = _teacher_forced(vae, params, z, emotion, events, steps_per_bar)
  changed = events.at[:, 10].set((events[:, 10] + 7) % 90)
  changed_logits, _ = _teacher_forced(vae, params, z, emotion, changed, steps_per_bar)
  np.testing.assert_array_equal(logits[:, :11], changed_logits[:, :11])
  assert not np.allclose(logits[0, 18], changed_logits[0, 18])  # 8 steps a bar: 1 bar later


def test_part_shift_starts_at_zero_and_reaches_only_the_odd_parts_bars():
  """model.part_bars: the conductor's shift is zero at initialisation (a warm start decodes as the
  model it starts from, bit-equal); once trained it changes no step before the first odd part
  (bar 2 with part_bars=2, step 16 at 8 steps a bar) and every part-1 bar's steps; with
  tune_bar_positions a window starting at bar 2 is in the odd part from its first step."""
  events, lengths, steps_per_bar, emotion = _batch()
  plain_hp = _hp()
  part_hp = _hp(part_bars=2, tune_bar_positions=True)
  part_vae, plain_vae = HierarchicalVAE(part_hp), HierarchicalVAE(plain_hp)
  params = part_vae.init(jax.random.key(0), events, lengths, steps_per_bar, emotion, jax.random.key(1))
  shift = params["params"]["decoder"]["conductor_part"]
  np.testing.assert_array_equal(shift, np.zeros(plain_hp.decoder_dim, np.float32))
  plain_params = {"params": {**params["params"], "decoder": {
      k: v for k, v in params["params"]["decoder"].items() if k != "conductor_part"}}}
  z = jax.random.normal(jax.random.key(2), (B, plain_hp.latent_dim))
  logits, _ = _teacher_forced(part_vae, params, z, emotion, events, steps_per_bar)
  plain_logits, _ = _teacher_forced(plain_vae, plain_params, z, emotion, events, steps_per_bar)
  np.testing.assert_array_equal(logits, plain_logits)

  params["params"]["decoder"]["conductor_part"] = jnp.ones(plain_hp.decoder_dim)
  shifted, _ = _teacher_forced(part_vae, params, z, emotion, events, steps_per_bar)
  eight = np.array([0, 2])  # the rows with 8 steps a bar
  np.testing.assert_array_equal(shifted[eight, :16], logits[eight, :16])
  assert not np.allclose(shifted[eight, 16:], logits[eight, 16:], atol=1e-4)

  def decode_from(first_bar, vae=part_vae, variables=params):
    return vae.apply(variables, z, emotion, events, steps_per_bar, None,
                     jnp.full((B,), first_bar), method=HierarchicalVAE.decode)[0]

  np.testing.assert_array_equal(decode_from(0), shifted)
  assert not np.allclose(decode_from(2)[eight, :8], logits[eight, :8], atol=1e-4)
  # Without tune_bar_positions the window's place in its tune is not read.
  window_vae = HierarchicalVAE(dataclasses.replace(part_hp, tune_bar_positions=False))
  np.testing.assert_array_equal(decode_from(2, window_vae), shifted)


def test_bar_place_options_need_the_conductor():
  for option in (dict(part_bars=16), dict(tune_bar_positions=True)):
    with pytest.raises(ValueError, match=next(iter(option))):
      _hp(hierarchical=False, **option)
    with pytest.raises(ValueError, match=next(iter(option))):
      _hp(family="lstm_lm", use_vae=False, **option)


def test_tune_bar_positions_give_the_conductor_the_tunes_phrase_and_period():
  """A window starting at bar 4 of its tune: its first bar is the tune's bar 4 (the second half of
  the 8-bar period), so its conductor reads what a window from bar 0 reads at its bar 4."""
  hp = _hp(tune_bar_positions=True)
  vae = HierarchicalVAE(hp)
  events, lengths, steps_per_bar, emotion = _batch()
  params = vae.init(jax.random.key(0), events, lengths, steps_per_bar, emotion, jax.random.key(1))
  z = jax.random.normal(jax.random.key(2), (B, hp.latent_dim))

  def decode_from(first_bar):
    return vae.apply(params, z, emotion, events, steps_per_bar, None, first_bar,
                     method=HierarchicalVAE.decode)[0]

  from_zero = decode_from(None)
  np.testing.assert_array_equal(decode_from(jnp.zeros(B, jnp.int32)), from_zero)
  np.testing.assert_array_equal(decode_from(jnp.full(B, 8)), from_zero)  # one period later
  assert not np.allclose(decode_from(jnp.full(B, 4)), from_zero, atol=1e-4)


def test_a_window_decoded_where_it_sits_in_its_tune_agrees_with_teacher_forcing_there():
  """generate's first_bar_B (Sampler.decode's first_bars, the harness's greedy decodes of
  mid-tune windows): the free-running logits are the teacher-forced ones at the same first bar,
  which differ from bar 0's for a window from bar 4; guided (the batch run twice, requested and
  neutral emotion), a window from bar 0 samples what it samples without first bars, one from
  bar 4 does not."""
  hp = _hp(tune_bar_positions=True)
  vae = HierarchicalVAE(hp)
  events, lengths, steps_per_bar, emotion = _batch()
  params = vae.init(jax.random.key(0), events, lengths, steps_per_bar, emotion, jax.random.key(1))
  z = jax.random.normal(jax.random.key(2), (B, hp.latent_size))
  keys = jax.random.split(jax.random.key(3), B)
  first_bar = jnp.asarray([4, 0, 12], jnp.int32)  # B = 3 melodies
  generate = jax.jit(lambda p, f, g: vae.apply(p, z, emotion, steps_per_bar, T, keys, guidance=g,
                                               first_bar_B=f, method=HierarchicalVAE.generate))
  sampled = generate(params, first_bar, None)
  forced = vae.apply(params, z, emotion, sampled["events"], steps_per_bar, None, first_bar,
                     method=HierarchicalVAE.decode)[0]
  np.testing.assert_allclose(forced, sampled["logits"], atol=1e-5)
  at_bar_0 = vae.apply(params, z, emotion, sampled["events"], steps_per_bar,
                       method=HierarchicalVAE.decode)[0]
  assert not np.allclose(forced[0], at_bar_0[0], atol=1e-4)  # row 0 starts at bar 4
  np.testing.assert_allclose(forced[1], at_bar_0[1], atol=1e-5)  # row 1 at bar 0
  guided, guided_at_bar_0 = (generate(params, f, 1.5)["logits"] for f in (first_bar, None))
  np.testing.assert_allclose(guided[1], guided_at_bar_0[1], atol=1e-5)
  assert not np.allclose(guided[0], guided_at_bar_0[0], atol=1e-4)


def _numpy_nucleus(logits_BxV, temperature, top_p):
  """The nucleus by hand: per row, events sorted by probability, kept while the mass before them
  is under top_p; the rest -inf."""
  tempered = np.asarray(logits_BxV, np.float64) / temperature
  probs = np.exp(tempered - tempered.max(-1, keepdims=True))
  probs /= probs.sum(-1, keepdims=True)
  out = np.full_like(tempered, -np.inf)
  for row in range(len(probs)):
    mass = 0.0
    for event in np.argsort(-probs[row], kind="stable"):
      if mass >= top_p:
        break
      out[row, event] = tempered[row, event]
      mass += probs[row, event]
  return out


def test_nucleus_beyond_the_candidates_falls_back_to_a_full_sort():
  """Rows whose nucleus is wider than the CANDIDATES most likely events (nearly flat rows) and
  rows of a few likely events, alone and together: the numpy reference every time."""
  key_flat, key_peaked = jax.random.split(jax.random.key(1))
  flat = jax.random.normal(key_flat, (4, 90)) * 0.1
  peaked = jax.random.normal(key_peaked, (4, 90)) * 6.0
  probs = np.sort(np.asarray(jax.nn.softmax(flat)), -1)[:, ::-1]
  assert (probs[:, :nucleus.CANDIDATES].sum(-1) < 0.9).all()  # these need the fallback
  for logits in (flat, peaked, jnp.concatenate([flat, peaked])):
    got = jax.jit(nucleus.nucleus_logits)(logits, 1.0, 0.9)
    np.testing.assert_array_equal(np.isinf(got), np.isinf(_numpy_nucleus(logits, 1.0, 0.9)))
  assert (np.isfinite(jax.jit(nucleus.nucleus_logits)(flat, 1.0, 0.9)).sum(-1)
          > nucleus.CANDIDATES).all()


@pytest.mark.parametrize("temperature,top_p", [(1.0, 0.9), (0.5, 0.5), (2.0, 0.99), (1.0, 1e-6)])
def test_nucleus_logits_equal_a_numpy_reference(temperature, top_p):
  logits = jax.random.normal(jax.random.key(0), (16, 90)) * 3.0
  got = jax.jit(nucleus.nucleus_logits)(logits, temperature, top_p)
  chex.assert_shape(got, (16, 90))
  chex.assert_type(got, jnp.float32)
  expected = _numpy_nucleus(logits, temperature, top_p)
  np.testing.assert_array_equal(np.isinf(got), np.isinf(expected))
  kept = np.isfinite(expected)
  np.testing.assert_allclose(np.asarray(got)[kept], expected[kept], rtol=1e-6)
  if top_p == 1e-6:
    assert (kept.sum(-1) == 1).all()  # the most likely event alone
  np.testing.assert_array_equal(nucleus.nucleus_logits(logits, temperature), logits / temperature)


@pytest.mark.parametrize("family", ["hrnnvae", "lstm_lm"])
def test_nucleus_sampling_draws_every_event_from_its_nucleus(family):
  """With top_p the sampled events all lie in the nucleus of the (untruncated) logits the sampler
  returns, and they are the Gumbel-max of its truncated logits, which differ from the plain ones
  under the same noise."""
  hp = _hp() if family == "hrnnvae" else _hp(family="lstm_lm")
  vae = models_lib.build(hp)
  events, lengths, steps_per_bar, emotion = _batch()
  params = vae.init(jax.random.key(0), events, lengths, steps_per_bar, emotion, jax.random.key(1))
  z = jax.random.normal(jax.random.key(2), (B, hp.latent_dim))
  keys = jax.random.split(jax.random.key(3), B)
  generate = lambda **options: vae.apply(params, z, emotion, steps_per_bar, T, keys, 1.5,
                                         method="generate", **options)
  plain, nucleus_sampled = generate(), generate(top_p=0.6)
  truncated = _numpy_nucleus(np.asarray(nucleus_sampled["logits"]).reshape(B * T, -1), 1.5, 0.6)
  sampled = np.asarray(nucleus_sampled["events"]).reshape(-1)
  assert np.isfinite(truncated[np.arange(B * T), sampled]).all()
  np.testing.assert_array_equal(
      np.argmax(truncated + np.asarray(nucleus_sampled["gumbel"]).reshape(B * T, -1), -1), sampled)
  assert (np.isinf(truncated).sum(-1) > 0).mean() > 0.5  # the nucleus really cuts the tail
  assert not np.array_equal(plain["events"], nucleus_sampled["events"])  # the same noise


def _numpy_repeat_penalized(logits, last_pitch, repeat_penalty, temperature):
  """The tempered distribution with the last struck pitch's probability divided by r, as logits:
  the reference for nucleus.repeat_penalized."""
  tempered = np.asarray(logits, np.float64) / temperature
  probs = np.exp(tempered - tempered.max(-1, keepdims=True))
  for row, pitch in enumerate(last_pitch):
    if 0 <= pitch < probs.shape[-1]:
      probs[row, pitch] /= repeat_penalty
  return np.log(probs / probs.sum(-1, keepdims=True))


@pytest.mark.parametrize("temperature,repeat_penalty", [(1.0, 2.0), (0.7, 1.5), (1.3, 10.0)])
def test_repeat_penalty_divides_the_last_pitchs_probability_by_r(temperature, repeat_penalty):
  """Against numpy: after tempering, the last struck pitch is r times less likely relative to
  every other event; rows with no pitch struck yet (the start token) and r = 1 are unchanged."""
  logits = jax.random.normal(jax.random.key(4), (5, 90)) * 3.0
  last_pitch = jnp.array([2, 40, 89, 90, 60])  # 90: the start token, no pitch struck yet
  got = jax.jit(nucleus.repeat_penalized)(logits, last_pitch, repeat_penalty, temperature)
  chex.assert_shape(got, (5, 90))
  chex.assert_type(got, jnp.float32)
  np.testing.assert_allclose(jax.nn.log_softmax(got / temperature),
                             _numpy_repeat_penalized(logits, last_pitch, repeat_penalty, temperature),
                             atol=1e-5)
  np.testing.assert_array_equal(got[3], logits[3])
  np.testing.assert_array_equal(np.delete(np.asarray(got[1]), 40), np.delete(np.asarray(logits[1]), 40))
  np.testing.assert_array_equal(nucleus.repeat_penalized(logits, last_pitch, 1.0, temperature), logits)


def _biased_sampler(family: str, event: int, bias: float):
  """generate(**options) of a fresh model of `family` whose every output bias over the events has
  `bias` added at `event`, at temperature 2 for 4 T steps from fixed latents and noise."""
  hp = _hp() if family == "hrnnvae" else _hp(family="lstm_lm")
  vae = models_lib.build(hp)
  events, lengths, steps_per_bar, emotion = _batch()
  params = vae.init(jax.random.key(0), events, lengths, steps_per_bar, emotion, jax.random.key(1))
  params = jax.tree_util.tree_map_with_path(
      lambda path, leaf: leaf.at[event].add(bias) if (
          leaf.shape == (hp.num_classes,) and "bias" in jax.tree_util.keystr(path)) else leaf,
      params)
  z = jax.random.normal(jax.random.key(2), (B, hp.latent_dim))
  keys = jax.random.split(jax.random.key(3), B)
  return lambda **options: vae.apply(params, z, emotion, steps_per_bar, 4 * T, keys, 2.0,
                                     method="generate", **options)


def _repeated_onsets(events_BxT) -> int:
  """Onsets that strike the pitch struck last (metrics.melody's repeated notes), over a batch."""
  repeats = 0
  for melody in np.asarray(events_BxT):
    pitches = melody[melody >= events_lib.FIRST_PITCH_EVENT]
    repeats += int((pitches[1:] == pitches[:-1]).sum())
  return repeats


@pytest.mark.parametrize("family", ["hrnnvae", "lstm_lm"])
def test_a_repeat_penalty_removes_repeated_notes_and_leaves_the_models_logits(family):
  """Sampling with an overwhelming penalty never strikes the last pitch again, where the same
  noise without it does; r = 1 is the plain decode, and the returned logits are the model's
  own in both (the penalty shapes only the draw)."""
  generate = _biased_sampler(family, event=40, bias=6.0)  # a model that loves one pitch
  plain, penalized = generate(), generate(repeat_penalty=1e9)
  assert _repeated_onsets(plain["events"]) > 0
  assert _repeated_onsets(penalized["events"]) == 0
  np.testing.assert_array_equal(generate(repeat_penalty=1.0)["events"], plain["events"])
  if family == "hrnnvae":  # guided: the requested emotion's rows carry the last pitch
    assert _repeated_onsets(generate(guidance=1.5, repeat_penalty=1e9)["events"]) == 0
  # The first step's logits are the model's whatever the penalty (nothing struck yet).
  np.testing.assert_allclose(penalized["logits"][:, 0], plain["logits"][:, 0], rtol=1e-6)


def _numpy_short_note_penalized(logits, previous_event, short_note_penalty, temperature):
  """The tempered distribution where, in rows whose previous event struck a pitch, every event
  but HOLD has its probability divided by s, as logits: the reference for
  nucleus.short_note_penalized."""
  tempered = np.asarray(logits, np.float64) / temperature
  probs = np.exp(tempered - tempered.max(-1, keepdims=True))
  for row, event in enumerate(previous_event):
    if events_lib.FIRST_PITCH_EVENT <= event < probs.shape[-1]:
      probs[row, events_lib.HOLD + 1:] /= short_note_penalty
  return np.log(probs / probs.sum(-1, keepdims=True))


@pytest.mark.parametrize("temperature,short_note_penalty", [(1.0, 2.0), (0.7, 4.0), (1.3, 30.0)])
def test_short_note_penalty_divides_ending_a_new_note_by_s(temperature, short_note_penalty):
  """Against numpy: right after a pitch is struck, ending the note (a new pitch or NOTE_OFF) is
  s times less likely against holding it; after HOLD, NOTE_OFF or the start token, and at s = 1,
  nothing changes."""
  logits = jax.random.normal(jax.random.key(5), (6, 90)) * 3.0
  previous = jnp.array([2, 40, 89, 90, events_lib.HOLD, events_lib.NOTE_OFF])  # 90: start token
  got = jax.jit(nucleus.short_note_penalized)(logits, previous, short_note_penalty, temperature)
  chex.assert_shape(got, (6, 90))
  chex.assert_type(got, jnp.float32)
  np.testing.assert_allclose(
      jax.nn.log_softmax(got / temperature),
      _numpy_short_note_penalized(logits, previous, short_note_penalty, temperature), atol=1e-5)
  np.testing.assert_array_equal(got[3:], logits[3:])
  np.testing.assert_array_equal(got[1, 1:], logits[1, 1:])  # only HOLD moves
  np.testing.assert_array_equal(nucleus.short_note_penalized(logits, previous, 1.0, temperature),
                                logits)


def _one_step_notes(events_BxT) -> int:
  """Notes that last exactly one step (an onset whose next event is not HOLD), over a batch."""
  events = np.asarray(events_BxT)
  struck = events[:, :-1] >= events_lib.FIRST_PITCH_EVENT
  return int((struck & (events[:, 1:] != events_lib.HOLD)).sum())


@pytest.mark.parametrize("family", ["hrnnvae", "lstm_lm"])
def test_a_short_note_penalty_removes_one_step_notes_and_leaves_the_models_logits(family):
  """A model that hates holding writes one-step notes; an overwhelming short-note penalty makes
  every struck note last at least two steps under the same noise, guided or not; s = 1 is the
  plain decode; the returned logits are the model's own."""
  generate = _biased_sampler(family, event=events_lib.HOLD, bias=-6.0)  # hates holding
  plain, penalized = generate(), generate(short_note_penalty=1e9)
  assert _one_step_notes(plain["events"]) > 0
  assert _one_step_notes(penalized["events"]) == 0
  assert (np.asarray(penalized["events"]) >= events_lib.FIRST_PITCH_EVENT).any()
  np.testing.assert_array_equal(generate(short_note_penalty=1.0)["events"], plain["events"])
  both = generate(short_note_penalty=1e9, repeat_penalty=1e9)["events"]
  assert _one_step_notes(both) == 0 and _repeated_onsets(both) == 0
  if family == "hrnnvae":
    assert _one_step_notes(generate(guidance=1.5, short_note_penalty=1e9)["events"]) == 0
  np.testing.assert_allclose(penalized["logits"][:, 0], plain["logits"][:, 0], rtol=1e-6)


class TestBarAdapter(chex.TestCase):
  """model.bar_adapter_dim (bar_adapter.py): a logit change that only the bars' latents reach."""

  @staticmethod
  @functools.cache  # the six tests share one pair (their eager inits compiled every scan again)
  def _models():
    hp = _hp(bar_latent_dim=5, bar_latent_dropout=0.5)
    with_adapter = dataclasses.replace(hp, bar_adapter_dim=6)
    events, lengths, steps_per_bar, emotion = _batch()
    init = lambda h: HierarchicalVAE(h).init(jax.random.key(0), events, lengths, steps_per_bar,
                                             emotion, jax.random.key(1))
    params = init(hp)
    adapted = init(with_adapter)
    # The same weights everywhere else, and a nonzero adapter (a fresh one's output is zero).
    adapted = jax.tree_util.tree_map_with_path(
        lambda path, leaf: _at(params, path) if "adapter" not in jax.tree_util.keystr(path)
        else jax.random.normal(jax.random.key(len(leaf.shape)), leaf.shape), adapted)
    return hp, with_adapter, params, adapted, (events, lengths, steps_per_bar, emotion)

  def test_a_decode_from_z_alone_is_bit_equal_with_and_without_the_adapter(self):
    hp, with_adapter, params, adapted, (events, _, steps_per_bar, emotion) = self._models()
    z = jax.random.normal(jax.random.key(2), (B, hp.latent_size))
    alone = hp.without_bar_latents(z)
    plain_vae, adapter_vae = HierarchicalVAE(hp), HierarchicalVAE(with_adapter)
    forced = lambda vae, p, latents, e=events: _teacher_forced(vae, p, latents, emotion, e,
                                                               steps_per_bar)[0]
    np.testing.assert_array_equal(forced(adapter_vae, adapted, alone),
                                  forced(plain_vae, params, alone))
    keys = jax.random.split(jax.random.key(3), B)
    generate = lambda vae, p, latents: vae.apply(p, latents, emotion, steps_per_bar, T, keys,
                                                 method=HierarchicalVAE.generate)
    np.testing.assert_array_equal(generate(adapter_vae, adapted, alone)["logits"],
                                  generate(plain_vae, params, alone)["logits"])
    # With the bars' latents the adapter changes the logits, and both drivers agree.
    moved = np.abs(forced(adapter_vae, adapted, z) - forced(plain_vae, params, z)).max(-1)
    assert (moved > 0.1).all()  # every step of every melody
    sampled = generate(adapter_vae, adapted, z)
    np.testing.assert_allclose(forced(adapter_vae, adapted, z, sampled["events"]), sampled["logits"],
                               atol=1e-5)

  def test_the_adapter_is_its_numpy_reference_and_starts_at_zero(self):
    _, with_adapter, _, adapted, _ = self._models()
    vae = HierarchicalVAE(with_adapter)
    state = jax.random.normal(jax.random.key(4), (B, 5, 2 * with_adapter.decoder_dim))
    inputs = jnp.concatenate([jax.random.normal(jax.random.key(5), (B, 5, 5)),
                              bars_lib.position_features(jnp.arange(5)[None].repeat(B, 0),
                                                         jnp.ones((B, 5), jnp.int32))], axis=-1)
    change = vae.apply(adapted, state, inputs,
                       method=lambda module, s, i: module.decoder.step.bar_adapter(s, i))
    p = {name: np.asarray(v["kernel"]) for name, v in adapted["params"]["decoder"]["step"].items()
         if name.startswith("adapter")}
    bias = np.asarray(adapted["params"]["decoder"]["step"]["adapter_state"]["bias"])
    bar, position = np.asarray(inputs[..., :5]), np.asarray(inputs[..., 5:])
    pre = np.concatenate([np.asarray(state), position], -1) @ p["adapter_state"] + bias
    expected = (np.tanh(pre + bar @ p["adapter_bar"]) - np.tanh(pre)) @ p["adapter_out"]
    np.testing.assert_allclose(change, expected, rtol=1e-4, atol=1e-4)
    fresh = HierarchicalVAE(with_adapter).init(jax.random.key(0), *_batch()[:4], jax.random.key(1))
    assert not np.asarray(fresh["params"]["decoder"]["step"]["adapter_out"]["kernel"]).any()

  def test_the_fits_step_moves_what_the_masked_full_gradient_moves(self):
    """bar_adapter.make_train_step takes the gradient of the trained leaves alone: the same
    gradient there as the full one (reference: every leaf's gradient, masked), the frozen leaves
    bit-equal after a step, the trained ones equal to the reference step's (the clip not binding)
    and the clip the trained leaves' norm when it binds."""
    import optax  # noqa: PLC0415

    from hrnnvae import bar_adapter  # noqa: PLC0415
    _, with_adapter, _, adapted, (events, lengths, steps_per_bar, emotion) = self._models()
    vae, params = HierarchicalVAE(with_adapter), adapted["params"]
    batch = {"events": events, "lengths": lengths, "steps_per_bar": steps_per_bar,
             "emotion": emotion}
    mask = bar_adapter.trainable_mask(params)
    trained = {jax.tree_util.keystr(path) for path, leaf in
               jax.tree_util.tree_flatten_with_path(mask)[0] if leaf.all()}
    assert trained and all("adapter_" in name or "bar_mu" in name or "bar_log_var" in name
                           for name in trained)
    loss = lambda p: bar_adapter.elbo_with_bars(vae, p, batch, jax.random.key(2), None, beta=0.2,
                                                free_bits=0.0)
    loss = jax.jit(loss)  # compiled whole: op by op, its gradient was 400 small programs
    full = jax.tree.map(jnp.multiply, jax.jit(jax.grad(loss))(params), mask)
    rate = 1e3  # the update is the clipped gradient times this, far above the weights' rounding
    tx = optax.sgd(rate)
    for clip in (1e6, 1e-3):
      step = bar_adapter.make_train_step(vae, tx, mask, beta=0.2, free_bits=0.0,
                                         grad_clip_norm=clip)
      moved, _, step_loss = step(params, tx.init(params), batch, jax.random.key(2), None)
      np.testing.assert_allclose(step_loss, loss(params), rtol=1e-6)
      scale = min(1.0, clip / float(optax.global_norm(full)))
      for path, after in jax.tree_util.tree_flatten_with_path(moved)[0]:
        name, before = jax.tree_util.keystr(path), _at(params, path)
        if name in trained:
          expected = scale * _at(full, path)
          np.testing.assert_allclose((before - after) / rate, expected, rtol=1e-4,
                                     atol=1e-4 * float(np.abs(expected).max()), err_msg=name)
        else:
          np.testing.assert_array_equal(after, before, err_msg=name)

  def test_the_adapter_needs_bar_latent_dropout_and_is_never_a_config_field(self):
    with pytest.raises(ValueError, match="bar_adapter_dim"):
      dataclasses.replace(_hp(bar_latent_dim=5), bar_adapter_dim=6).validate()
    assert _hp(bar_latent_dim=5, bar_latent_dropout=0.5).bar_adapter_dim == 0
    with pytest.raises(KeyError, match="bar_adapter_dim"):  # configs/default.py has no such field
      _hp(bar_adapter_dim=6)


class TestTuneReadingAdapter(chex.TestCase):
  """model.adapter_tune_steps (transfer_adapter.py's tune-reading transfer adapter): the adapter
  also reads the tune being moved, its events at this step and the next ones."""

  @staticmethod
  @functools.cache  # shared by the tests that ask for the same reach (as above)
  def _models(tune_steps=2):
    hp = dataclasses.replace(_hp(bar_latent_dim=5, bar_latent_dropout=0.5), bar_adapter_dim=6)
    reading = dataclasses.replace(hp, adapter_tune_steps=tune_steps)
    events, lengths, steps_per_bar, emotion = _batch()
    params = HierarchicalVAE(hp).init(jax.random.key(0), events, lengths, steps_per_bar, emotion,
                                      jax.random.key(1))
    params = jax.tree_util.tree_map_with_path(  # a nonzero adapter everywhere
        lambda path, leaf: jax.random.normal(jax.random.key(len(leaf.shape)), leaf.shape)
        if "adapter" in jax.tree_util.keystr(path) else leaf, params)
    step = params["params"]["decoder"]["step"]
    kernel = jax.random.normal(jax.random.key(7), (tune_steps * hp.num_classes, 6))
    read = {"params": {**params["params"], "decoder": {
        **params["params"]["decoder"], "step": {**step, "adapter_tune": {"kernel": kernel}}}}}
    return hp, reading, params, read, (events, lengths, steps_per_bar, emotion)

  def test_the_tune_window_is_its_numpy_reference(self):
    tune = np.array([[5, 6, 7, 8], [1, 2, 3, 4]])
    window = np.asarray(decoder_lib.tune_window(jnp.asarray(tune), 3))
    expected = np.array([[[5, 6, 7], [6, 7, 8], [7, 8, -1], [8, -1, -1]],
                         [[1, 2, 3], [2, 3, 4], [3, 4, -1], [4, -1, -1]]])
    np.testing.assert_array_equal(window, expected)

  def test_the_adapter_reading_the_tune_is_its_numpy_reference(self):
    _, reading, _, read, _ = self._models()
    vae = HierarchicalVAE(reading)
    state = jax.random.normal(jax.random.key(4), (B, 5, 2 * reading.decoder_dim))
    bar = jax.random.normal(jax.random.key(5), (B, 5, 5))
    tune = jax.random.randint(jax.random.key(6), (B, 5, 2), -1, 90)
    step_in_bar, bar_index = jnp.arange(5)[None].repeat(B, 0), jnp.ones((B, 5), jnp.int32)
    inputs = vae.apply(read, bar, step_in_bar, bar_index, jnp.float32, tune,
                       method=lambda module, *a: module.decoder.step.adapter_inputs(*a))
    change = vae.apply(read, state, inputs,
                       method=lambda module, s, i: module.decoder.step.bar_adapter(s, i))
    step = read["params"]["decoder"]["step"]
    k = {name: np.asarray(v["kernel"]) for name, v in step.items() if name.startswith("adapter")}
    position = np.asarray(bars_lib.position_features(step_in_bar, bar_index))
    pre = (np.concatenate([np.asarray(state), position], -1) @ k["adapter_state"]
           + np.asarray(step["adapter_state"]["bias"]))
    one_hots = np.zeros((B, 5, 2, 90), np.float32)  # -1: past the tune's end, no class
    for b, q, slot in np.ndindex(B, 5, 2):
      if tune[b, q, slot] >= 0:
        one_hots[b, q, slot, tune[b, q, slot]] = 1.0
    moved = pre + np.asarray(bar) @ k["adapter_bar"] + one_hots.reshape(B, 5, -1) @ k["adapter_tune"]
    expected = (np.tanh(moved) - np.tanh(pre)) @ k["adapter_out"]
    np.testing.assert_allclose(change, expected, rtol=1e-4, atol=1e-4)

  def test_a_zero_reading_is_the_plain_adapter_and_a_step_reads_only_its_window(self):
    hp, reading, params, read, (events, _, steps_per_bar, emotion) = self._models()
    z = jax.random.normal(jax.random.key(2), (B, hp.latent_size))
    tune = jax.random.randint(jax.random.key(8), (B, T), 0, 90)
    forced = lambda vae, p, t: vae.apply(p, z, emotion, events, steps_per_bar, None, None, t,
                                         method=HierarchicalVAE.decode)[0]
    plain = _teacher_forced(HierarchicalVAE(hp), params, z, emotion, events, steps_per_bar)[0]
    zero = jax.tree_util.tree_map_with_path(
        lambda path, leaf: jnp.zeros_like(leaf) if "adapter_tune" in jax.tree_util.keystr(path)
        else leaf, read)
    np.testing.assert_array_equal(forced(HierarchicalVAE(reading), zero, tune), plain)
    # The tune changed at step 10 moves the logits at steps 9 and 10 only (steps t, t + 1).
    base = forced(HierarchicalVAE(reading), read, tune)
    changed = forced(HierarchicalVAE(reading), read, tune.at[:, 10].set((tune[:, 10] + 1) % 90))
    moved_steps = np.nonzero(np.abs(np.asarray(changed - base)).max(axis=(0, 2)) > 1e-6)[0]
    np.testing.assert_array_equal(moved_steps, [9, 10])
    with pytest.raises(ValueError, match="tune's events"):
      forced(HierarchicalVAE(reading), read, None)

  @parameterized.parameters((None, None), (1.5, None), (None, 2.0), (1.5, 2.0))
  def test_free_running_and_teacher_forcing_agree_reading_the_tune(self, guidance, keep_bias):
    hp, reading, _, read, (_, _, steps_per_bar, emotion) = self._models()
    vae = HierarchicalVAE(reading)
    z = jax.random.normal(jax.random.key(2), (B, hp.latent_size))
    tune = jax.random.randint(jax.random.key(8), (B, T), 0, 90)
    keep = {} if keep_bias is None else {"keep_BxT": tune, "keep_bias": keep_bias}
    sampled = vae.apply(read, z, emotion, steps_per_bar, T, jax.random.split(jax.random.key(3), B),
                        guidance=guidance, tune_BxT=tune, method=HierarchicalVAE.generate, **keep)
    if guidance is None:
      forced = vae.apply(read, z, emotion, sampled["events"], steps_per_bar, None, None, tune,
                         method=HierarchicalVAE.decode)[0]
      np.testing.assert_allclose(forced, sampled["logits"], atol=1e-5)
    if keep_bias is not None:  # the kept tune's events are favoured: more of them kept
      free = vae.apply(read, z, emotion, steps_per_bar, T, jax.random.split(jax.random.key(3), B),
                       guidance=guidance, tune_BxT=tune, method=HierarchicalVAE.generate)
      assert (np.asarray(sampled["events"]) == np.asarray(tune)).sum() > (
          np.asarray(free["events"]) == np.asarray(tune)).sum()

  def test_reading_the_tune_needs_the_bar_adapter(self):
    with pytest.raises(ValueError, match="adapter_tune_steps"):
      dataclasses.replace(_hp(bar_latent_dim=5, bar_latent_dropout=0.5),
                          adapter_tune_steps=2).validate()
    with pytest.raises(KeyError, match="adapter_tune_steps"):  # never a config field
      _hp(adapter_tune_steps=2)


def _at(tree, path):
  for key in path:
    tree = tree[key.key]
  return tree
