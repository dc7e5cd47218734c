"""The decoder: a bar-level conductor, then one step function with causal attention, two drivers.

`DecoderStep` is the only code that turns a previous event into the next distribution. The
teacher-forced driver feeds it the true previous events (training); the free-running driver feeds
it its own samples (generation, and the prior decodes the emotion and adversarial losses see).
Both are `nn.scan`s over the same submodule, so they share every parameter.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from hrnnvae.models import attention as attention_lib
from hrnnvae.models.cells import TanhRNN, TanhRNNCell
from hrnnvae.models.hparams import ModelHParams

# carry = (h_short_BxH, h_long_BxH, keys_BxWxA, values_BxWxD, t)


class DecoderStep(nn.Module):
  """One step: previous event (as a distribution over V+1 inputs) -> logits over V events."""
  hp: ModelHParams

  def setup(self):
    hp = self.hp
    # A linear map of the input distribution: for a one-hot input it is an embedding lookup,
    # and for a straight-through sample gradients still flow.
    self.embed = nn.Dense(hp.embed_dim, use_bias=False, name="embed")
    self.short_term = TanhRNNCell(hp.decoder_dim, name="short_term")
    if hp.hierarchical:
      self.long_term = TanhRNNCell(hp.decoder_dim, name="long_term")
    if hp.attention == "additive":
      self.attention = attention_lib.AdditiveAttention(hp.attention_dim, name="attention")
    elif hp.attention == "dot_product":
      self.attention = attention_lib.DotProductAttention(hp.attention_dim, hp.attention_heads,
                                                         name="attention")
    else:
      raise ValueError(f"attention must be 'additive' or 'dot_product', not {hp.attention!r}")
    self.output = nn.Dense(hp.num_classes, name="output")

  def __call__(self, carry, previous_BxV1, bar_BxC, context_BxC):
    h_short, h_long, keys, values, t = carry
    x = jnp.concatenate([self.embed(previous_BxV1), bar_BxC, context_BxC], axis=-1)
    h_short = self.short_term(h_short, x)
    h_long = self.long_term(h_long, h_short) if self.hp.hierarchical else h_short
    key, value = self.attention.keys_values(h_long)  # projected once, when h_long is produced
    keys = attention_lib.write_slot(keys, t, key)
    values = attention_lib.write_slot(values, t, value)
    c_BxD, alpha_BxW = self.attention(h_long, keys, values,
                                      attention_lib.valid_slots(t, keys.shape[1]))
    logits_BxV = self.output(jnp.concatenate([h_long, c_BxD], axis=-1))
    return (h_short, h_long, keys, values, t + 1), (logits_BxV, alpha_BxW)

  def value_dim(self) -> int:
    return self.hp.decoder_dim if self.hp.attention == "additive" else self.hp.attention_dim


def _teacher_forced_body(step: DecoderStep, carry, inputs, context_BxC):
  previous_BxV1, bar_BxC = inputs
  return step(carry, previous_BxV1, bar_BxC, context_BxC)


def _free_running_body(step: DecoderStep, carry, inputs, context_BxC, temperature):
  """Samples each event (Gumbel-max) and feeds it back; the one-hot sample carries a
  straight-through gradient from softmax((logits + g) / temperature)."""
  state, previous_BxV1 = carry
  bar_BxC, key = inputs
  state, (logits_BxV, alpha_BxW) = step(state, previous_BxV1, bar_BxC, context_BxC)
  gumbel_BxV = jax.random.gumbel(key, logits_BxV.shape, logits_BxV.dtype)
  perturbed = (logits_BxV + gumbel_BxV) / temperature
  soft_BxV = jax.nn.softmax(perturbed, axis=-1)
  hard_BxV = jax.nn.one_hot(jnp.argmax(perturbed, axis=-1), logits_BxV.shape[-1], dtype=soft_BxV.dtype)
  sample_BxV = hard_BxV + soft_BxV - jax.lax.stop_gradient(soft_BxV)
  next_input = jnp.pad(sample_BxV, ((0, 0), (0, 1)))  # no START after the first step
  return (state, next_input), (sample_BxV, logits_BxV)


class Decoder(nn.Module):
  """z and the emotion embedding -> conductor bar vectors -> the step RNN under two drivers."""
  hp: ModelHParams

  def setup(self):
    hp = self.hp
    self.context = nn.Dense(hp.decoder_dim, name="context")
    if hp.hierarchical:
      self.conductor_init = nn.Dense(hp.conductor_dim, name="conductor_init")
      self.conductor = TanhRNN(hp.conductor_dim, name="conductor")
      self.long_term_init = nn.Dense(hp.decoder_dim, name="long_term_init")
    self.short_term_init = nn.Dense(hp.decoder_dim, name="short_term_init")
    self.step = DecoderStep(hp, name="step")

  def _start(self, z_BxZ, emotion_BxE, steps_per_bar_B, num_steps):
    """The context, each step's bar vector [T, B, C] (time-major) and the initial carry."""
    hp = self.hp
    batch = z_BxZ.shape[0]
    context_BxC = jnp.tanh(self.context(jnp.concatenate([z_BxZ, emotion_BxE], axis=-1)))
    h_short = jnp.tanh(self.short_term_init(context_BxC))
    if hp.hierarchical:
      num_bars = hp.num_bars(num_steps)
      bars_BxNxC = self.conductor(
          jnp.broadcast_to(context_BxC[:, None, :], (batch, num_bars, context_BxC.shape[-1])),
          jnp.ones((batch, num_bars), bool), jnp.tanh(self.conductor_init(context_BxC)))[1]
      bar_index_BxT = jnp.minimum(jnp.arange(num_steps)[None, :] // steps_per_bar_B[:, None],
                                  num_bars - 1)
      bar_BxTxC = jnp.take_along_axis(bars_BxNxC, bar_index_BxT[..., None], axis=1)
      h_long = jnp.tanh(self.long_term_init(context_BxC))
    else:
      bar_BxTxC = jnp.zeros((batch, num_steps, 0), z_BxZ.dtype)
      h_long = h_short
    slots = hp.cache_slots(num_steps)
    keys = jnp.zeros((batch, slots, hp.attention_dim), z_BxZ.dtype)
    values = jnp.zeros((batch, slots, self.step.value_dim()), z_BxZ.dtype)
    carry = (h_short, h_long, keys, values, jnp.zeros((), jnp.int32))
    return context_BxC, jnp.swapaxes(bar_BxTxC, 0, 1), carry

  def teacher_forced(self, z_BxZ, emotion_BxE, events_BxT, steps_per_bar_B):
    """Logits [B, T, V] and attention weights [B, T, W] given the true previous events."""
    hp = self.hp
    num_steps = events_BxT.shape[1]
    context, bar_TxBxC, carry = self._start(z_BxZ, emotion_BxE, steps_per_bar_B, num_steps)
    start_Bx1 = jnp.full((events_BxT.shape[0], 1), hp.start_token, events_BxT.dtype)
    previous_BxT = jnp.concatenate([start_Bx1, events_BxT[:, :-1]], axis=1)
    previous_TxBxV1 = jax.nn.one_hot(previous_BxT.T, hp.num_classes + 1, dtype=z_BxZ.dtype)
    scan = nn.scan(_teacher_forced_body, variable_broadcast="params",
                   split_rngs={"params": False}, in_axes=(0, nn.broadcast), out_axes=0)
    _, (logits_TxBxV, alpha_TxBxW) = scan(self.step, carry, (previous_TxBxV1, bar_TxBxC), context)
    return jnp.swapaxes(logits_TxBxV, 0, 1), jnp.swapaxes(alpha_TxBxW, 0, 1)

  def free_running(self, z_BxZ, emotion_BxE, steps_per_bar_B, num_steps: int, rng: jax.Array,
                   temperature: float = 1.0):
    """Samples [B, T, V] (one-hot, straight-through) and their logits [B, T, V]."""
    hp = self.hp
    context, bar_TxBxC, state = self._start(z_BxZ, emotion_BxE, steps_per_bar_B, num_steps)
    start = jax.nn.one_hot(jnp.full(z_BxZ.shape[:1], hp.start_token), hp.num_classes + 1,
                           dtype=z_BxZ.dtype)
    scan = nn.scan(_free_running_body, variable_broadcast="params",
                   split_rngs={"params": False}, in_axes=(0, nn.broadcast, nn.broadcast),
                   out_axes=0)
    keys_T = jax.random.split(rng, num_steps)
    _, (samples_TxBxV, logits_TxBxV) = scan(self.step, (state, start), (bar_TxBxC, keys_T),
                                            context, temperature)
    return jnp.swapaxes(samples_TxBxV, 0, 1), jnp.swapaxes(logits_TxBxV, 0, 1)
