"""The decoder: a bar-level conductor, then one step function with causal attention, two drivers.

A decoder step is two halves that every driver shares:
  `recur`: previous event (a distribution over V+1 inputs), bar vector, context -> RNN states;
  `emit`:  long-term state(s) attending over earlier long-term states -> logits over V events.
The attention only reads the states, it never feeds the recurrence, so the drivers differ only in
how they schedule the halves:
  teacher forcing (training, scoring): scan `recur` over T, then `emit` for all steps at once,
    in rematerialised chunks of queries (memory O(B * chunk * T * A), not O(B * T^2 * A));
  free running (sampling): one scan of recur -> cache keys/values -> emit -> sample -> feed back.
Both give the same logits for the same events (a test checks it).
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from hrnnvae.models import attention as attention_lib
from hrnnvae.models.cells import TanhRNN, TanhRNNCell
from hrnnvae.models.hparams import ModelHParams

QUERY_CHUNK = 32  # teacher-forced queries per rematerialised attention chunk


class DecoderStep(nn.Module):
  hp: ModelHParams

  def setup(self):
    hp = self.hp
    # A linear map of the input distribution: an embedding lookup for a one-hot input.
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

  def recur(self, states, previous_BxV1, bar_BxC, context_BxC):
    """(h_short, h_long) -> the next (h_short, h_long); without hierarchy h_long is h_short."""
    h_short, h_long = states
    x = jnp.concatenate([self.embed(previous_BxV1), bar_BxC, context_BxC], axis=-1)
    h_short = self.short_term(h_short, x)
    h_long = self.long_term(h_long, h_short) if self.hp.hierarchical else h_short
    return h_short, h_long

  def keys_values(self, h_long):
    return self.attention.keys_values(h_long)

  def emit(self, h_long_BxQxH, keys_BxKxA, values_BxKxD, visible_QxK):
    """(logits [B, Q, V], attention weights [B, Q, K]) from [h_t, c_t]."""
    c_BxQxD, alpha_BxQxK = self.attention(h_long_BxQxH, keys_BxKxA, values_BxKxD, visible_QxK)
    return self.output(jnp.concatenate([h_long_BxQxH, c_BxQxD], axis=-1)), alpha_BxQxK

  def value_dim(self) -> int:
    return self.hp.decoder_dim if self.hp.attention == "additive" else self.hp.attention_dim


def _recur_body(step: DecoderStep, states, inputs, context_BxC):
  states = step.recur(states, *inputs, context_BxC)
  return states, states[1]


def _emit_body(step: DecoderStep, carry, inputs, keys, values, window):
  h_long_BxQxH, query_steps_Q = inputs
  visible_QxK = attention_lib.causal_mask(query_steps_Q, keys.shape[1], window)
  return carry, step.emit(h_long_BxQxH, keys, values, visible_QxK)


def _sample_body(step: DecoderStep, carry, inputs, context_BxC, temperature):
  """recur -> cache -> emit -> Gumbel-max sample at `temperature` -> next input."""
  states, keys, values, t, previous_BxV1 = carry
  bar_BxC, gumbel_BxV = inputs
  states = step.recur(states, previous_BxV1, bar_BxC, context_BxC)
  key, value = step.keys_values(states[1])
  keys, values = attention_lib.ring_write(keys, t, key), attention_lib.ring_write(values, t, value)
  logits_Bx1xV, _ = step.emit(states[1][:, None], keys, values,
                              attention_lib.ring_valid(t, keys.shape[1]))
  logits_BxV = logits_Bx1xV[:, 0]
  event_B = jnp.argmax(logits_BxV / temperature + gumbel_BxV, axis=-1)
  next_input = jax.nn.one_hot(event_B, previous_BxV1.shape[-1], dtype=previous_BxV1.dtype)
  return (states, keys, values, t + 1, next_input), (event_B, logits_BxV)


class Decoder(nn.Module):
  """z and the emotion embedding -> conductor bar vectors -> the step under two drivers."""
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
    """The context [B, C], each step's bar vector [T, B, C'] (time-major), initial states."""
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
    return context_BxC, jnp.swapaxes(bar_BxTxC, 0, 1), (h_short, h_long)

  def _start_inputs(self, batch: int, dtype):
    return jax.nn.one_hot(jnp.full((batch,), self.hp.start_token), self.hp.num_classes + 1,
                          dtype=dtype)

  def teacher_forced(self, z_BxZ, emotion_BxE, events_BxT, steps_per_bar_B):
    """Logits [B, T, V] and attention weights [B, T, T] given the true previous events."""
    hp = self.hp
    batch, num_steps = events_BxT.shape
    context, bar_TxBxC, states = self._start(z_BxZ, emotion_BxE, steps_per_bar_B, num_steps)
    previous_TxBxV1 = jnp.concatenate([
        self._start_inputs(batch, z_BxZ.dtype)[None],
        jax.nn.one_hot(events_BxT.T[:-1], hp.num_classes + 1, dtype=z_BxZ.dtype)])
    recur = nn.scan(_recur_body, variable_broadcast="params", split_rngs={"params": False},
                    in_axes=(0, nn.broadcast), out_axes=0)
    _, h_long_TxBxH = recur(self.step, states, (previous_TxBxV1, bar_TxBxC), context)
    h_long_BxTxH = jnp.swapaxes(h_long_TxBxH, 0, 1)
    keys, values = self.step.keys_values(h_long_BxTxH)

    chunk = min(QUERY_CHUNK, num_steps)
    chunks = -(-num_steps // chunk)
    padded = jnp.pad(h_long_BxTxH, ((0, 0), (0, chunks * chunk - num_steps), (0, 0)))
    h_CxBxQxH = jnp.moveaxis(padded.reshape(batch, chunks, chunk, -1), 1, 0)
    query_steps_CxQ = jnp.arange(chunks * chunk).reshape(chunks, chunk)
    emit = nn.scan(nn.remat(_emit_body), variable_broadcast="params", split_rngs={"params": False},
                   in_axes=(0, nn.broadcast, nn.broadcast, nn.broadcast), out_axes=0)
    _, (logits_CxBxQxV, alpha_CxBxQxK) = emit(self.step, None, (h_CxBxQxH, query_steps_CxQ),
                                              keys, values, hp.cache_slots(num_steps))
    unchunk = lambda x: jnp.moveaxis(x, 0, 1).reshape(batch, chunks * chunk, -1)[:, :num_steps]
    return unchunk(logits_CxBxQxV), unchunk(alpha_CxBxQxK)

  def free_running(self, z_BxZ, emotion_BxE, steps_per_bar_B, num_steps: int, keys_B: jax.Array,
                   temperature: float = 1.0):
    """Samples: events [B, T] int32, their logits [B, T, V], and the Gumbel noise [B, T, V].

    Each melody draws its noise from its own key, so a melody does not depend on its batch.
    """
    hp = self.hp
    batch = z_BxZ.shape[0]
    context, bar_TxBxC, states = self._start(z_BxZ, emotion_BxE, steps_per_bar_B, num_steps)
    slots = hp.cache_slots(num_steps)
    carry = (states, jnp.zeros((batch, slots, hp.attention_dim), z_BxZ.dtype),
             jnp.zeros((batch, slots, self.step.value_dim()), z_BxZ.dtype),
             jnp.zeros((), jnp.int32), self._start_inputs(batch, z_BxZ.dtype))
    gumbel_BxTxV = jax.vmap(
        lambda key: jax.random.gumbel(key, (num_steps, hp.num_classes), z_BxZ.dtype))(keys_B)
    gumbel_TxBxV = jnp.swapaxes(gumbel_BxTxV, 0, 1)
    sample = nn.scan(_sample_body, variable_broadcast="params", split_rngs={"params": False},
                     in_axes=(0, nn.broadcast, nn.broadcast), out_axes=0, unroll=hp.sample_unroll)
    _, (events_TxB, logits_TxBxV) = sample(self.step, carry, (bar_TxBxC, gumbel_TxBxV), context,
                                           temperature)
    return {"events": events_TxB.T.astype(jnp.int32), "logits": jnp.swapaxes(logits_TxBxV, 0, 1),
            "gumbel": gumbel_BxTxV}
