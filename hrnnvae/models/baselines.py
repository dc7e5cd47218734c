"""Baselines with the VAE's interface (encode, reconstruct, decode, generate), trained and sampled
by the same code:
  LSTMLanguageModel: Magenta's Melody RNN in spirit: a two-layer LSTM over the events, the
    emotion as an input, no latent (encode returns zeros; use_vae is False);
  MusicVAELike: MusicVAE's hierdec in spirit: a bidirectional LSTM encoder, an LSTM conductor
    over bars and an LSTM step decoder, no attention; KL with free bits as configured.
Both sample with the same Gumbel-max rule and per-melody keys as the main model.
"""

from __future__ import annotations

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp

from hrnnvae.data import events as events_lib
from hrnnvae.models import nucleus
from hrnnvae.models.hparams import ModelHParams


class _LSTMStep(nn.Module):
  """prev event distribution [B, V+1] and a conditioning vector -> logits; carry = two LSTMs."""
  hp: ModelHParams

  def setup(self):
    self.embed = nn.Dense(self.hp.embed_dim, use_bias=False, name="embed")
    self.lower = nn.OptimizedLSTMCell(self.hp.decoder_dim, name="lower")
    self.upper = nn.OptimizedLSTMCell(self.hp.decoder_dim, name="upper")
    self.output = nn.Dense(self.hp.num_classes, name="output")

  def __call__(self, carry, previous_BxV1, condition_BxC):
    lower, upper = carry
    x = jnp.concatenate([self.embed(previous_BxV1), condition_BxC], axis=-1)
    lower, h = self.lower(lower, x)
    upper, h = self.upper(upper, h)
    return (lower, upper), self.output(h)


def _forced_body(step, carry, inputs):
  previous, condition = inputs
  return step(carry, previous, condition)


def _sample_body(step, carry, inputs, temperature, top_p=None, repeat_penalty=None,
                 short_note_penalty=None, keep_bias=None):
  """As decoder._sample_body without the bars: carry (state, previous input, last struck pitch)."""
  state, previous, last_pitch_B = carry
  condition, gumbel_BxV, *kept = inputs
  state, logits = step(state, previous, condition)
  drawn_from = logits
  if repeat_penalty is not None:
    drawn_from = nucleus.repeat_penalized(logits, last_pitch_B, repeat_penalty, temperature)
  if short_note_penalty is not None:
    drawn_from = nucleus.short_note_penalized(drawn_from, jnp.argmax(previous, axis=-1),
                                              short_note_penalty, temperature)
  if keep_bias is not None:
    drawn_from = drawn_from + keep_bias * jax.nn.one_hot(kept[0], drawn_from.shape[-1],
                                                         dtype=drawn_from.dtype)
  event = jnp.argmax(nucleus.nucleus_logits(drawn_from, temperature, top_p) + gumbel_BxV, axis=-1)
  last_pitch_B = jnp.where(event >= events_lib.FIRST_PITCH_EVENT, event, last_pitch_B)
  return ((state, jax.nn.one_hot(event, previous.shape[-1], dtype=previous.dtype), last_pitch_B),
          (event, logits))


class _Autoregressive(nn.Module):
  """Shared drivers: subclasses give per-step conditioning [T, B, C] and the initial carry."""
  hp: ModelHParams

  def _condition(self, z_BxZ, emotion_B, steps_per_bar_B, num_steps):
    raise NotImplementedError

  def _start(self, batch, dtype):
    return jax.nn.one_hot(jnp.full((batch,), self.hp.start_token), self.hp.num_classes + 1,
                          dtype=dtype)

  def decode(self, z_BxZ, emotion_B, events_BxT, steps_per_bar_B, grid=None, first_bar_B=None):
    del grid, first_bar_B  # no bar grid, no conductor
    batch, num_steps = events_BxT.shape
    condition_TxBxC, carry = self._condition(z_BxZ, emotion_B, steps_per_bar_B, num_steps)
    previous = jnp.concatenate([
        self._start(batch, z_BxZ.dtype)[None],
        jax.nn.one_hot(events_BxT.T[:-1], self.hp.num_classes + 1, dtype=z_BxZ.dtype)])
    scan = nn.scan(_forced_body, variable_broadcast="params", split_rngs={"params": False})
    _, logits_TxBxV = scan(self.step, carry, (previous, condition_TxBxC))
    return jnp.swapaxes(logits_TxBxV, 0, 1), None

  def generate(self, z_BxZ, emotion_B, steps_per_bar_B, num_steps: int, keys_B, temperature=1.0,
               top_p=None, repeat_penalty=None, short_note_penalty=None, keep_BxT=None,
               keep_bias=None):
    """As HierarchicalVAE.generate, without emotion guidance or sections."""
    batch = z_BxZ.shape[0]
    condition_TxBxC, carry = self._condition(z_BxZ, emotion_B, steps_per_bar_B, num_steps)
    gumbel_BxTxV = jax.vmap(
        lambda key: jax.random.gumbel(key, (num_steps, self.hp.num_classes), z_BxZ.dtype))(keys_B)
    scan = nn.scan(functools.partial(_sample_body, top_p=top_p, repeat_penalty=repeat_penalty,
                                     short_note_penalty=short_note_penalty,
                                     keep_bias=None if keep_BxT is None else keep_bias),
                   variable_broadcast="params",
                   split_rngs={"params": False}, in_axes=(0, nn.broadcast),
                   unroll=self.hp.sample_unroll)
    start = (carry, self._start(batch, z_BxZ.dtype),
             jnp.full((batch,), self.hp.start_token, jnp.int32))
    inputs = (condition_TxBxC, jnp.swapaxes(gumbel_BxTxV, 0, 1))
    if keep_BxT is not None:
      inputs += (jnp.asarray(keep_BxT, jnp.int32).T,)
    _, (events_TxB, logits_TxBxV) = scan(self.step, start, inputs, temperature)
    return {"events": events_TxB.T.astype(jnp.int32), "logits": jnp.swapaxes(logits_TxBxV, 0, 1),
            "gumbel": gumbel_BxTxV}

  def reconstruct(self, events_BxT, lengths_B, steps_per_bar_B, emotion_B, rng, grid=None,
                  drop_bar_latents=False, first_bar_B=None):
    """As HierarchicalVAE.reconstruct; the baselines have no bar latents to drop and no
    conductor to tell where a window starts."""
    del drop_bar_latents, first_bar_B
    mu, log_var = self.encode(events_BxT, lengths_B, steps_per_bar_B, grid)
    z = mu if log_var is None else mu + jnp.exp(0.5 * log_var) * jax.random.normal(rng, mu.shape)
    logits, alpha = self.decode(z, emotion_B, events_BxT, steps_per_bar_B)
    return {"logits": logits, "alpha": alpha, "mu": mu, "log_var": log_var, "z": z}

  def __call__(self, events_BxT, lengths_B, steps_per_bar_B, emotion_B, rng, grid=None):
    return self.reconstruct(events_BxT, lengths_B, steps_per_bar_B, emotion_B, rng, grid)

  def _zero_carry(self, batch, dtype):
    zeros = jnp.zeros((batch, self.hp.decoder_dim), dtype)
    return ((zeros, zeros), (zeros, zeros))


class LSTMLanguageModel(_Autoregressive):

  def setup(self):
    self.emotion_embed = nn.Embed(self.hp.num_emotions, self.hp.emotion_dim, name="emotion_embed")
    self.step = _LSTMStep(self.hp, name="step")

  def encode(self, events_BxT, lengths_B, steps_per_bar_B, grid=None):
    return jnp.zeros((events_BxT.shape[0], self.hp.latent_dim)), None

  def _condition(self, z_BxZ, emotion_B, steps_per_bar_B, num_steps):
    emotion_BxE = self.emotion_embed(emotion_B)
    condition = jnp.broadcast_to(emotion_BxE[None], (num_steps,) + emotion_BxE.shape)
    return condition, self._zero_carry(z_BxZ.shape[0], z_BxZ.dtype)


class MusicVAELike(_Autoregressive):

  def setup(self):
    hp = self.hp
    self.encoder_embed = nn.Embed(hp.num_classes, hp.embed_dim, name="encoder_embed")
    self.encoder = nn.Bidirectional(nn.RNN(nn.OptimizedLSTMCell(hp.short_term_dim)),
                                    nn.RNN(nn.OptimizedLSTMCell(hp.short_term_dim)),
                                    return_carry=True, name="encoder")
    self.mu = nn.Dense(hp.latent_dim, name="mu")
    self.log_var = nn.Dense(hp.latent_dim, name="log_var")
    self.emotion_embed = nn.Embed(hp.num_emotions, hp.emotion_dim, name="emotion_embed")
    self.conductor_init = nn.Dense(2 * hp.conductor_dim, name="conductor_init")
    self.conductor = nn.RNN(nn.OptimizedLSTMCell(hp.conductor_dim), name="conductor")
    self.decoder_init = nn.Dense(hp.decoder_dim, name="decoder_init")
    self.step = _LSTMStep(hp, name="step")

  def encode(self, events_BxT, lengths_B, steps_per_bar_B, grid=None):
    (forward, backward), _ = self.encoder(self.encoder_embed(events_BxT), seq_lengths=lengths_B)
    summary = jnp.concatenate([forward[1], backward[1]], axis=-1)  # both directions' last h
    return self.mu(summary), self.log_var(summary)

  def _condition(self, z_BxZ, emotion_B, steps_per_bar_B, num_steps):
    hp = self.hp
    batch = z_BxZ.shape[0]
    context = jnp.concatenate([z_BxZ, self.emotion_embed(emotion_B)], axis=-1)
    num_bars = hp.num_bars(num_steps)
    cell, hidden = jnp.split(jnp.tanh(self.conductor_init(context)), 2, axis=-1)
    bars_BxNxC = self.conductor(jnp.broadcast_to(context[:, None], (batch, num_bars, context.shape[-1])),
                                initial_carry=(cell, hidden))
    bar_index = jnp.minimum(jnp.arange(num_steps)[None] // steps_per_bar_B[:, None], num_bars - 1)
    bar_BxTxC = jnp.take_along_axis(bars_BxNxC, bar_index[..., None], axis=1)
    h0 = jnp.tanh(self.decoder_init(context))
    zeros = jnp.zeros_like(h0)
    return jnp.swapaxes(bar_BxTxC, 0, 1), ((zeros, h0), (zeros, h0))
