"""The decoder: a bar-level conductor, then one step function with causal attention, two drivers.

Two layouts (config model.decoder):
  "bar_reset" (default, MusicVAE's hierarchical decoder with the paper's attention): at every bar
    line the step RNNs restart from a state computed from that bar's conductor vector, so
    nothing crosses a bar line except the conductor, the previous event (an input, as in
    MusicVAE) and the causal attention over earlier steps. Teacher forcing runs every bar of a
    batch at once on the bar grid (models/bars.py): sequential depth S, not T.
  "continuous": the step RNNs run over all T steps; the conductor's bar vector is an input.
Every step's input is [previous event, lookback, bar vector, position features, context(z,
emotion)]: the emotion reaches the conductor and every step. The lookback (model.lookback_input,
models/bars.py) is the pitch still sounding and the events one and two bars back: after a bar
line restarts the step RNNs they would otherwise know the tune's pitch and its last bar only
through attention.

A decoder step is two halves that every driver shares:
  `recur`: previous event (a distribution over V+1 inputs), conditioning -> RNN states;
  `emit`:  long-term state(s) attending over earlier long-term states -> logits over V events.
The attention only reads the states, it never feeds the recurrence, so the drivers differ only in
how they schedule the halves:
  teacher forcing (training, scoring): `recur` on the bar grid (or scanned over T), then `emit`
    for all steps at once, in rematerialised chunks of queries (memory O(B * chunk * T * A));
  free running (sampling): one scan over T of (restart at a bar line) -> recur -> cache
    keys/values -> emit -> sample -> feed back.
Both give the same logits for the same events (a test checks it).
"""

from __future__ import annotations

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp

from hrnnvae.data import events as events_lib
from hrnnvae.models import attention as attention_lib
from hrnnvae.models import bars as bars_lib
from hrnnvae.models import nucleus
from hrnnvae.models.cells import TanhRNN, TanhRNNCell
from hrnnvae.models.hparams import ModelHParams

QUERY_CHUNK = 32  # teacher-forced queries per rematerialised attention chunk
UNIT_NORMAL = nn.initializers.normal(1.0)  # unit-scale event embeddings


class DecoderStep(nn.Module):
  hp: ModelHParams

  def setup(self):
    hp = self.hp
    # A linear map of the input distribution: an embedding lookup for a one-hot input.
    self.embed = nn.Dense(hp.embed_dim, use_bias=False, kernel_init=UNIT_NORMAL, name="embed")
    self.short_term = TanhRNNCell(hp.decoder_dim, hp.dtype, name="short_term")
    if hp.hierarchical:
      self.long_term = TanhRNNCell(hp.decoder_dim, hp.dtype, name="long_term")
    if hp.attention == "additive":
      self.attention = attention_lib.AdditiveAttention(hp.attention_dim, hp.dtype, name="attention")
    elif hp.attention == "dot_product":
      self.attention = attention_lib.DotProductAttention(hp.attention_dim, hp.attention_heads,
                                                         hp.dtype, name="attention")
    else:
      raise ValueError(f"attention must be 'additive' or 'dot_product', not {hp.attention!r}")
    self.output = nn.Dense(hp.num_classes, dtype=hp.dtype, name="output")
    if hp.lookback_input:
      # One embedding per lookback slot, each unit-scale (a Dense over their one-hots).
      self.lookback = nn.Dense(hp.embed_dim, use_bias=False,
                               kernel_init=nn.initializers.normal(
                                   bars_lib.lookback_dim(hp.lookback_bars) ** -0.5),
                               name="lookback")
    if hp.bar_adapter_dim:
      self.adapter_state = nn.Dense(hp.bar_adapter_dim, dtype=hp.dtype, name="adapter_state")
      self.adapter_bar = nn.Dense(hp.bar_adapter_dim, use_bias=False, dtype=hp.dtype,
                                  name="adapter_bar")
      # Zero-initialised: a fresh adapter leaves the decoder's logits as they were.
      self.adapter_out = nn.Dense(hp.num_classes, use_bias=False, dtype=hp.dtype,
                                  kernel_init=nn.initializers.zeros, name="adapter_out")
    if hp.adapter_tune_steps:  # zero at first: reads the tune's events only once fitted to
      self.adapter_tune = nn.Dense(hp.bar_adapter_dim, use_bias=False, dtype=hp.dtype,
                                   kernel_init=nn.initializers.zeros, name="adapter_tune")

  def embed_inputs(self, previous_xV1, lookback_xL=None):
    """[previous event embedding, lookback embedding] from an input distribution over V+1 classes
    and lookback ids (models/bars.py; ignored without model.lookback_input)."""
    embedded = self.embed(previous_xV1)
    if not self.hp.lookback_input:
      return embedded
    one_hots = jax.nn.one_hot(lookback_xL, self.hp.num_classes + 1, dtype=previous_xV1.dtype)
    lookback = self.lookback(one_hots.reshape(one_hots.shape[:-2] + (-1,)))
    return jnp.concatenate([embedded, lookback], axis=-1)

  def recur(self, states, previous_BxV1, condition_BxC, lookback_BxL=None):
    """(h_short, h_long) -> the next (h_short, h_long); without hierarchy h_long is h_short."""
    return self.recur_embedded(states, self.embed_inputs(previous_BxV1, lookback_BxL),
                               condition_BxC)

  def recur_embedded(self, states, previous_BxE, condition_BxC):
    h_short, h_long = states
    x = jnp.concatenate([previous_BxE, condition_BxC], axis=-1)
    h_short = self.short_term(h_short, x)
    h_long = self.long_term(h_long, h_short) if self.hp.hierarchical else h_short
    return h_short, h_long

  def keys_values(self, h_long):
    return self.attention.keys_values(h_long)

  def emit(self, h_long_BxQxH, keys_BxKxA, values_BxKxD, visible_QxK, adapter_BxQxI=None):
    """(logits [B, Q, V], attention weights [B, Q, K]) from [h_t, c_t].

    adapter_BxQxI: with model.bar_adapter_dim, each query's [bar latent, position features]
    (adapter_inputs): the bar adapter's change is added to the logits."""
    c_BxQxD, alpha_BxQxK = self.attention(h_long_BxQxH, keys_BxKxA, values_BxKxD, visible_QxK)
    output_in = jnp.concatenate([h_long_BxQxH, c_BxQxD], axis=-1)
    logits = self.output(output_in)
    if self.hp.bar_adapter_dim:
      logits = logits + self.bar_adapter(output_in, adapter_BxQxI)
    return logits.astype(jnp.float32), alpha_BxQxK  # softmax and losses in float32

  def bar_adapter(self, output_in_BxQxD, adapter_BxQxI):
    """What the bar's latent changes in the logits: W (tanh(A [state, position] + U bar) -
    tanh(A [state, position])), exactly zero where the bar latent is zero (z alone), so a
    decode from z alone is bit-equal with or without the adapter.

    With model.adapter_tune_steps (a tune-reading transfer adapter), the tanh also reads the
    tune being moved: + K [one-hot of the tune's event at this step, ..., at adapter_tune_steps
    - 1 steps on] (zeros past its end), so the adapter sees which note it keeps or changes."""
    hp = self.hp
    tune_width = hp.adapter_tune_steps * hp.num_classes
    bar_BxQxZ = adapter_BxQxI[..., :hp.bar_latent_dim]
    position_BxQxP = adapter_BxQxI[..., hp.bar_latent_dim:adapter_BxQxI.shape[-1] - tune_width]
    state = self.adapter_state(jnp.concatenate([output_in_BxQxD, position_BxQxP], axis=-1))
    moved = state + self.adapter_bar(bar_BxQxZ)
    if tune_width:
      moved = moved + self.adapter_tune(adapter_BxQxI[..., -tune_width:])
    return self.adapter_out(jnp.tanh(moved) - jnp.tanh(state))

  def adapter_inputs(self, bar_latent_BxQxZ, step_in_bar, bar, dtype, tune_BxQxK=None):
    """The adapter's per-step input: the step's bar latent, its position features and, with
    model.adapter_tune_steps, the one-hots of the tune's events tune_BxQxK (tune_window; a
    negative event, past the tune's end, is all zeros). None without the adapter."""
    hp = self.hp
    if not hp.bar_adapter_dim:
      return None
    parts = [bar_latent_BxQxZ.astype(dtype), bars_lib.position_features(step_in_bar, bar, dtype)]
    if hp.adapter_tune_steps:
      if tune_BxQxK is None:
        raise ValueError("a tune-reading adapter (adapter_tune_steps) needs the tune's events")
      one_hots = jax.nn.one_hot(tune_BxQxK, hp.num_classes, dtype=dtype)
      parts.append(one_hots.reshape(one_hots.shape[:-2] + (-1,)))
    return jnp.concatenate(parts, axis=-1)

  def value_dim(self) -> int:
    return self.hp.decoder_dim if self.hp.attention == "additive" else self.hp.attention_dim


def tune_window(tune_BxT, steps: int):
  """[B, T, steps]: at step t the tune's events t, t + 1, ..., t + steps - 1 (-1 past its
  end), what a tune-reading adapter reads (DecoderStep.adapter_inputs)."""
  padded = jnp.pad(jnp.asarray(tune_BxT, jnp.int32), ((0, 0), (0, steps - 1)), constant_values=-1)
  num_steps = tune_BxT.shape[1]
  return jnp.stack([padded[:, k:k + num_steps] for k in range(steps)], axis=-1)


def _recur_body(step: DecoderStep, states, inputs):
  previous_BxE, condition_BxC = inputs
  states = step.recur_embedded(states, previous_BxE, condition_BxC)
  return states, states[1]


def _emit_body(step: DecoderStep, carry, inputs, keys, values, window):
  h_long_BxQxH, query_steps_Q, *adapter = inputs
  visible_QxK = attention_lib.causal_mask(query_steps_Q, keys.shape[1], window)
  return carry, step.emit(h_long_BxQxH, keys, values, visible_QxK, *adapter)


def _windowed_emit_body(step: DecoderStep, carry, inputs, keys, values, window):
  """A chunk of queries against only the keys its window can see: the chunk's own steps and the
  `window` - 1 before them. keys/values arrive padded in front by `window` steps (never visible)."""
  del window  # traced when broadcast; the static value is the configured one
  window = step.hp.attention_window
  h_long_BxQxH, query_steps_Q, *adapter = inputs
  chunk = query_steps_Q.shape[0]
  first = query_steps_Q[0]  # padded index of step `first - window`
  keys_BxKxA = jax.lax.dynamic_slice_in_dim(keys, first, chunk + window, axis=1)
  values_BxKxD = jax.lax.dynamic_slice_in_dim(values, first, chunk + window, axis=1)
  key_steps_K = first - window + jnp.arange(chunk + window)
  visible_QxK = ((key_steps_K[None, :] <= query_steps_Q[:, None])
                 & (key_steps_K[None, :] > query_steps_Q[:, None] - window)
                 & (key_steps_K[None, :] >= 0))
  logits, alpha_BxQxK = step.emit(h_long_BxQxH, keys_BxKxA, values_BxKxD, visible_QxK, *adapter)
  # Attention weights in the same [B, Q, T] layout as the full-history driver.
  num_steps = keys.shape[1] - window
  alpha_BxQxT = jnp.zeros(alpha_BxQxK.shape[:2] + (num_steps + chunk + window,), alpha_BxQxK.dtype)
  alpha_BxQxT = jax.lax.dynamic_update_slice_in_dim(alpha_BxQxT, alpha_BxQxK, first, axis=2)
  return carry, (logits, alpha_BxQxT[:, :, window:window + num_steps])


def _gather_bar(values_BxNxD, bar_B):
  return jnp.take_along_axis(values_BxNxD, bar_B[:, None, None], axis=1)[:, 0]


def _sample_body(step: DecoderStep, carry, inputs, plan, temperature, guidance=None, top_p=None,
                 repeat_penalty=None, short_note_penalty=None, keep_bias=None):
  """(restart at a bar line) -> recur -> cache -> emit -> Gumbel-max sample -> next input.

  top_p: None, or the nucleus (nucleus.nucleus_logits) each event is drawn from.
  repeat_penalty: None, or r: striking the last struck pitch again is r times less likely
  (nucleus.repeat_penalized), before the nucleus is taken.
  short_note_penalty: None, or s: a note that lasts one step is s times less likely
  (nucleus.short_note_penalized), before the nucleus is taken.
  keep_bias: None, or b with the fourth input, the event [B] each melody is to keep at this step
  (None without): its logit is raised by b before temperature and nucleus (emotion transfer's
  fidelity to the tune, Decoder.free_running's keep_BxT). The fifth input: None, or the tune's
  events [B, K] a tune-reading adapter reads at this step (tune_window).

  guidance: None, or the emotion guidance scale s when the carry holds 2B rows, the requested
  emotion's B then the neutral emotion's B (Decoder.free_running): the event is drawn from
  neutral + s * (requested - neutral) logits and fed back to both halves.
  """
  states, keys, values, t, previous_BxV1, history_BxT, sounding_B = carry
  step_in_bar_B, bar_B, gumbel_BxV, kept, tune_BxK = inputs
  context_BxC, bars_BxNxC, bar_states, steps_per_bar_B = plan
  clipped_bar_B = jnp.minimum(bar_B, bars_BxNxC.shape[1] - 1)
  if step.hp.decoder == "bar_reset" and step.hp.hierarchical:
    starts = step_in_bar_B[:, None] == 0
    states = tuple(jnp.where(starts, _gather_bar(s, clipped_bar_B), h)
                   for s, h in zip(bar_states, states))
  if context_BxC.ndim == 3:  # a tune in sections: each bar's own section's context
    context_BxC = _gather_bar(context_BxC, clipped_bar_B)
  bar_BxC = _gather_bar(bars_BxNxC, clipped_bar_B)
  condition_BxC = jnp.concatenate(
      [bar_BxC, context_BxC]
      + ([bars_lib.position_features(step_in_bar_B, bar_B, context_BxC.dtype)]
         if step.hp.position_input else []), axis=-1)
  lookback_BxL = None
  if step.hp.lookback_input:
    lookback_BxL = bars_lib.lookback_step(history_BxT, sounding_B, t, steps_per_bar_B,
                                         step.hp.start_token, step.hp.lookback_bars)
  states = step.recur(states, previous_BxV1, condition_BxC, lookback_BxL)
  key, value = step.keys_values(states[1])
  keys, values = attention_lib.ring_write(keys, t, key), attention_lib.ring_write(values, t, value)
  adapter_Bx1xI = step.adapter_inputs(bar_BxC[:, None, bar_BxC.shape[-1] - step.hp.bar_latent_dim:],
                                      step_in_bar_B[:, None], bar_B[:, None], context_BxC.dtype,
                                      None if tune_BxK is None else tune_BxK[:, None])
  logits_Bx1xV, _ = step.emit(states[1][:, None], keys, values,
                              attention_lib.ring_valid(t, keys.shape[1]), adapter_Bx1xI)
  logits_BxV = logits_Bx1xV[:, 0]
  if guidance is not None:
    requested_BxV, neutral_BxV = jnp.split(logits_BxV, 2)
    logits_BxV = guided_logits(requested_BxV, neutral_BxV, guidance)
  drawn_from_BxV = logits_BxV
  if repeat_penalty is not None:  # sounding_B's first B rows: the requested emotion's
    drawn_from_BxV = nucleus.repeat_penalized(logits_BxV, sounding_B[:logits_BxV.shape[0]],
                                              repeat_penalty, temperature)
  if short_note_penalty is not None:  # the previous event, fed back to every row alike
    drawn_from_BxV = nucleus.short_note_penalized(
        drawn_from_BxV, jnp.argmax(previous_BxV1[:logits_BxV.shape[0]], axis=-1),
        short_note_penalty, temperature)
  if keep_bias is not None:
    drawn_from_BxV = drawn_from_BxV + keep_bias * jax.nn.one_hot(kept, drawn_from_BxV.shape[-1],
                                                                 dtype=drawn_from_BxV.dtype)
  event_B = jnp.argmax(nucleus.nucleus_logits(drawn_from_BxV, temperature, top_p) + gumbel_BxV,
                       axis=-1)
  fed_back = event_B if guidance is None else jnp.concatenate([event_B, event_B])  # every row
  next_input = jax.nn.one_hot(fed_back, previous_BxV1.shape[-1], dtype=previous_BxV1.dtype)
  if step.hp.lookback_input:
    history_BxT = jax.lax.dynamic_update_slice_in_dim(history_BxT, fed_back[:, None], t, axis=1)
  sounding_B = jnp.where(fed_back >= events_lib.FIRST_PITCH_EVENT, fed_back, sounding_B)
  return ((states, keys, values, t + 1, next_input, history_BxT, sounding_B),
          (event_B, logits_BxV))


def guided_logits(requested_BxV, neutral_BxV, guidance):
  """Emotion guidance (classifier-free guidance's rule): neutral + s * (requested - neutral),
  renormalised as log-probabilities. s = 1 is the requested emotion's own distribution; s > 1
  moves further along what the emotion changes, from a neutral emotion (the mean embedding)."""
  requested = jax.nn.log_softmax(requested_BxV)
  neutral = jax.nn.log_softmax(neutral_BxV)
  return jax.nn.log_softmax(neutral + guidance * (requested - neutral))


class Decoder(nn.Module):
  """z and the emotion embedding -> conductor bar vectors -> the step under two drivers."""
  hp: ModelHParams

  def setup(self):
    hp = self.hp
    self.context = nn.Dense(hp.decoder_dim, name="context")
    if hp.hierarchical:
      self.conductor_init = nn.Dense(hp.conductor_dim, name="conductor_init")
      self.conductor = TanhRNN(hp.conductor_dim, hp.dtype, name="conductor")
      if hp.part_bars:  # zero at first: a warm start decodes as the model it starts from
        self.conductor_part = self.param("conductor_part", nn.initializers.zeros,
                                         (hp.decoder_dim,))
      self.long_term_init = nn.Dense(hp.decoder_dim, name="long_term_init")
    self.short_term_init = nn.Dense(hp.decoder_dim, name="short_term_init")
    self.step = DecoderStep(hp, name="step")

  @property
  def _restarts(self) -> bool:
    return self.hp.decoder == "bar_reset" and self.hp.hierarchical

  def _plan(self, z_BxZ, emotion_BxE, num_bars: int, first_bar_B=None):
    """(context [B, C], bar vectors [B, N, C'], initial states, each (h_short, h_long) [B, N, H]
    for bar_reset or [B, 1, H] for continuous).

    first_bar_B: where each window starts in its tune (the cache's start_bar; None: at its first
    bar, as every sample does); read with model.tune_bar_positions only."""
    hp = self.hp
    batch = z_BxZ.shape[0]
    z_BxZ, bar_latents_BxNxZ = self._split_latents(z_BxZ, num_bars)
    context_BxC = jnp.tanh(self.context(jnp.concatenate([z_BxZ, emotion_BxE], axis=-1)))
    if not hp.hierarchical:
      h_short = jnp.tanh(self.short_term_init(context_BxC))[:, None]
      return context_BxC, jnp.zeros((batch, 1, 0), z_BxZ.dtype), (h_short, h_short)
    bar_BxN = jnp.broadcast_to(jnp.arange(num_bars)[None], (batch, num_bars))
    if hp.tune_bar_positions and first_bar_B is not None:
      bar_BxN = bar_BxN + first_bar_B.astype(bar_BxN.dtype)[:, None]
    context_BxNxC = jnp.broadcast_to(context_BxC[:, None, :],
                                     (batch, num_bars, context_BxC.shape[-1]))
    if hp.part_bars:  # a B part: every odd part of part_bars bars shifts the conductor's input
      odd_part_BxN = ((bar_BxN // hp.part_bars) % 2).astype(context_BxC.dtype)
      context_BxNxC = context_BxNxC + odd_part_BxN[..., None] * self.conductor_part
    conductor_inputs = jnp.concatenate([
        context_BxNxC, bars_lib.bar_features(bar_BxN, z_BxZ.dtype), bar_latents_BxNxZ], axis=-1)
    bars_BxNxC = self.conductor(conductor_inputs, jnp.ones((batch, num_bars), bool),
                                jnp.tanh(self.conductor_init(context_BxC)))[1]
    # Each bar's latent also reaches its steps directly (and its restart state), beside the
    # conductor's vector: the bar's pitches need not pass through the conductor's recurrence.
    bars_BxNxC = jnp.concatenate([bars_BxNxC, bar_latents_BxNxZ], axis=-1)
    source = bars_BxNxC if self._restarts else context_BxC[:, None]
    states = (jnp.tanh(self.short_term_init(source)), jnp.tanh(self.long_term_init(source)))
    return context_BxC, bars_BxNxC, states

  def _sectioned_plan(self, z_BxSxZ, emotion_BxE, num_bars: int, section_bars: int):
    """_plan for a tune in sections of `section_bars` bars, section s from its own latent
    z_BxSxZ[:, s] (the last section runs on to bar num_bars): each section's conductor starts
    afresh from its latent, as at the start of a training window, so no conductor runs past the
    bars it was trained on; with model.tune_bar_positions it counts bars from the section's
    place in the tune. The context is then per bar, [B, N, C]."""
    if not self._restarts:
      raise ValueError("a tune in sections needs the bar_reset hierarchical decoder")
    batch, sections = z_BxSxZ.shape[:2]
    emotion_BSxE = jnp.repeat(emotion_BxE, sections, axis=0)
    # Section s starts at the tune's bar s * section_bars: with model.tune_bar_positions its
    # conductor counts from there, as it did for a training window that starts there.
    first_bar_BS = jnp.tile(jnp.arange(sections, dtype=jnp.int32) * section_bars, batch)
    context, bars, states = self._plan(z_BxSxZ.reshape(batch * sections, -1), emotion_BSxE,
                                       num_bars, first_bar_BS)
    section_N = jnp.minimum(jnp.arange(num_bars) // section_bars, sections - 1)
    in_section_N = jnp.arange(num_bars) - section_N * section_bars

    def per_bar(values_BSxNxD):  # bar n from its section's plan, at its place in the section
      values = values_BSxNxD.reshape(batch, sections, num_bars, -1)
      return values[:, section_N, in_section_N]

    return (per_bar(jnp.broadcast_to(context[:, None], (batch * sections, num_bars,
                                                        context.shape[-1]))),
            per_bar(bars), tuple(per_bar(s) for s in states))

  def _split_latents(self, z_BxZ, num_bars: int):
    """(z [B, latent_dim], each plan bar's latent [B, N, bar_latent_dim]) from a melody's whole
    latent (hp.latent_size wide): bar n reads slot n mod hp.bar_latent_slots, so a decode longer
    than the training windows restates their bars' latents in order."""
    hp = self.hp
    if not hp.bar_latent_dim:
      return z_BxZ, jnp.zeros((z_BxZ.shape[0], num_bars, 0), z_BxZ.dtype)
    z_BxZ, slots_BxSxZb = hp.split_latents(z_BxZ)
    return z_BxZ, slots_BxSxZb[:, jnp.arange(num_bars) % hp.bar_latent_slots]

  def _start_inputs(self, batch: int, dtype):
    return jax.nn.one_hot(jnp.full((batch,), self.hp.start_token), self.hp.num_classes + 1,
                          dtype=dtype)

  def _num_bars(self, num_steps: int, grid) -> int:
    return grid[0] if (self._restarts and grid) else self.hp.num_bars(num_steps)

  def teacher_forced(self, z_BxZ, emotion_BxE, events_BxT, steps_per_bar_B, grid=None,
                     first_bar_B=None, tune_BxT=None):
    """Logits [B, T, V] and attention weights [B, T, T] given the true previous events.

    grid: the bar grid (N, S) for bar_reset (default: one that fits any melody of T steps).
    first_bar_B: where each window starts in its tune (_plan).
    tune_BxT: the tune a tune-reading adapter reads (model.adapter_tune_steps; emotion transfer's
    tune, which events_BxT, its transfer, may differ from).
    """
    hp = self.hp
    batch, num_steps = events_BxT.shape
    if self._restarts and grid is None:
      grid = bars_lib.grid_shape(num_steps, hp.min_steps_per_bar, hp.max_steps_per_bar)
    context, bars_BxNxC, bar_states = self._plan(z_BxZ, emotion_BxE, self._num_bars(num_steps, grid),
                                                 first_bar_B)
    previous_BxT = jnp.concatenate([jnp.full((batch, 1), hp.start_token, events_BxT.dtype),
                                    events_BxT[:, :-1]], axis=1)
    lookback_BxTxL = None
    if hp.lookback_input:
      lookback_BxTxL = bars_lib.lookback_events(events_BxT, steps_per_bar_B,
                                                events_lib.FIRST_PITCH_EVENT, hp.start_token,
                                                hp.lookback_bars)
    previous_BxTxE = self.step.embed_inputs(
        jax.nn.one_hot(previous_BxT, hp.num_classes + 1, dtype=z_BxZ.dtype), lookback_BxTxL)
    step_in_bar, bar = bars_lib.time_positions(steps_per_bar_B, num_steps)
    clipped_bar = jnp.minimum(bar, bars_BxNxC.shape[1] - 1)
    bar_BxTxC = jnp.take_along_axis(bars_BxNxC, clipped_bar[..., None], axis=1)
    adapter_BxTxI = self.step.adapter_inputs(
        bar_BxTxC[..., bar_BxTxC.shape[-1] - hp.bar_latent_dim:], step_in_bar, bar, z_BxZ.dtype,
        None if tune_BxT is None else tune_window(tune_BxT, hp.adapter_tune_steps))
    conditions = [bar_BxTxC,
                  jnp.broadcast_to(context[:, None], (batch, num_steps, context.shape[-1]))]
    if hp.position_input:
      conditions.append(bars_lib.position_features(step_in_bar, bar, z_BxZ.dtype))
    condition_BxTxC = jnp.concatenate(conditions, axis=-1)
    recur = nn.scan(_recur_body, variable_broadcast="params", split_rngs={"params": False},
                    in_axes=0, out_axes=0)
    if self._restarts:
      bars, steps = grid
      full = jnp.full((batch,), num_steps)
      inputs_BxNxSxI, _ = bars_lib.to_grid(jnp.concatenate([previous_BxTxE, condition_BxTxC], -1),
                                           steps_per_bar_B, full, grid)
      inputs_SxMxI = jnp.moveaxis(inputs_BxNxSxI.reshape(batch * bars, steps, -1), 1, 0)
      embed_dim = previous_BxTxE.shape[-1]
      states = tuple(s.reshape(batch * bars, -1) for s in bar_states)
      _, h_long_SxMxH = recur(self.step, states, (inputs_SxMxI[..., :embed_dim],
                                                  inputs_SxMxI[..., embed_dim:]))
      h_long_BxNxSxH = jnp.moveaxis(h_long_SxMxH, 0, 1).reshape(batch, bars, steps, -1)
      h_long_BxTxH = bars_lib.from_grid(h_long_BxNxSxH, steps_per_bar_B, num_steps)
    else:
      states = tuple(s[:, 0] for s in bar_states)
      _, h_long_TxBxH = recur(self.step, states, (jnp.swapaxes(previous_BxTxE, 0, 1),
                                                  jnp.swapaxes(condition_BxTxC, 0, 1)))
      h_long_BxTxH = jnp.swapaxes(h_long_TxBxH, 0, 1)
    keys, values = self.step.keys_values(h_long_BxTxH)

    chunk = min(QUERY_CHUNK, num_steps)
    chunks = -(-num_steps // chunk)
    padded = jnp.pad(h_long_BxTxH, ((0, 0), (0, chunks * chunk - num_steps), (0, 0)))
    h_CxBxQxH = jnp.moveaxis(padded.reshape(batch, chunks, chunk, -1), 1, 0)
    query_steps_CxQ = jnp.arange(chunks * chunk).reshape(chunks, chunk)
    window = hp.cache_slots(num_steps)
    body = _emit_body
    if window + chunk < num_steps:  # a window much shorter than the melody: slice the keys
      body = _windowed_emit_body
      pad = ((0, 0), (window, chunks * chunk - num_steps), (0, 0))
      keys, values = jnp.pad(keys, pad), jnp.pad(values, pad)
    chunked_inputs = (h_CxBxQxH, query_steps_CxQ)
    if adapter_BxTxI is not None:
      padded = jnp.pad(adapter_BxTxI, ((0, 0), (0, chunks * chunk - num_steps), (0, 0)))
      chunked_inputs += (jnp.moveaxis(padded.reshape(batch, chunks, chunk, -1), 1, 0),)
    emit = nn.scan(nn.remat(body), variable_broadcast="params", split_rngs={"params": False},
                   in_axes=(0, nn.broadcast, nn.broadcast, nn.broadcast), out_axes=0)
    _, (logits_CxBxQxV, alpha_CxBxQxK) = emit(self.step, None, chunked_inputs, keys, values,
                                              window)
    unchunk = lambda x: jnp.moveaxis(x, 0, 1).reshape(batch, chunks * chunk, -1)[:, :num_steps]
    return unchunk(logits_CxBxQxV), unchunk(alpha_CxBxQxK)[..., :num_steps]

  def free_running(self, z_BxZ, emotion_BxE, steps_per_bar_B, num_steps: int, keys_B: jax.Array,
                   temperature: float = 1.0, neutral_BxE=None, guidance=1.0, top_p=None,
                   repeat_penalty=None, short_note_penalty=None, section_bars: int = 0,
                   keep_BxT=None, keep_bias=None, first_bar_B=None, tune_BxT=None):
    """Samples: events [B, T] int32, their logits [B, T, V], and the Gumbel noise [B, T, V].

    z_BxZ: one latent a melody, or [B, S, Z] with section_bars > 0: a tune in S sections of
    section_bars bars, each planned from its own latent (_sectioned_plan); attention and the
    previous event still cross the section lines.

    Each melody draws its noise from its own key, so a melody does not depend on its batch.
    neutral_BxE: with it, emotion guidance of scale `guidance` (guided_logits): the decoder runs
    twice per melody, once with the requested emotion and once with the neutral one, on the same
    z and the same sampled events; the returned logits are the guided ones.
    top_p: None, or each event is drawn from the top-p nucleus of the tempered distribution
    (nucleus.nucleus_logits); the returned logits are the untruncated ones.
    repeat_penalty: None, or r: the last struck pitch is r times less likely to be struck again
    (nucleus.repeat_penalized); the returned logits are the model's, without the penalty.
    short_note_penalty: None, or s: a one-step note is s times less likely
    (nucleus.short_note_penalized); the returned logits are the model's, without it.
    keep_BxT, keep_bias: None, or events [B, T] and b: at step t the event keep_BxT[:, t] is
    e^(b / temperature) times more likely than the model says (before the nucleus), so that
    emotion transfer keeps a tune's own events where the requested emotion lets it; the returned
    logits are the model's, without it.
    first_bar_B: None, or where each melody starts in its tune (a window decoded where it sits,
    read with model.tune_bar_positions; _plan); not with section_bars.
    tune_BxT: None, or the tune a tune-reading adapter reads (model.adapter_tune_steps).
    """
    hp = self.hp
    tune_BxTxK = None if tune_BxT is None else tune_window(tune_BxT, hp.adapter_tune_steps)
    batch = z_BxZ.shape[0]
    guided = neutral_BxE is not None
    if guided:
      z_BxZ = jnp.concatenate([z_BxZ, z_BxZ])
      emotion_BxE = jnp.concatenate([emotion_BxE, neutral_BxE])
      steps_per_bar_B = jnp.concatenate([steps_per_bar_B, steps_per_bar_B])
      if first_bar_B is not None:
        first_bar_B = jnp.concatenate([first_bar_B, first_bar_B])
      if tune_BxTxK is not None:
        tune_BxTxK = jnp.concatenate([tune_BxTxK, tune_BxTxK])
      batch = 2 * batch
    if section_bars:
      if first_bar_B is not None:
        raise ValueError("a tune in sections starts at its first bar; pass no first_bar_B")
      context, bars_BxNxC, bar_states = self._sectioned_plan(z_BxZ, emotion_BxE,
                                                             hp.num_bars(num_steps), section_bars)
    else:
      context, bars_BxNxC, bar_states = self._plan(z_BxZ, emotion_BxE, hp.num_bars(num_steps),
                                                   first_bar_B)
    slots = hp.cache_slots(num_steps)
    initial = tuple(s[:, 0] for s in bar_states)
    carry = (initial, jnp.zeros((batch, slots, hp.attention_dim), hp.cache_jnp_dtype),
             jnp.zeros((batch, slots, self.step.value_dim()), hp.cache_jnp_dtype),
             jnp.zeros((), jnp.int32), self._start_inputs(batch, z_BxZ.dtype),
             jnp.full((batch, num_steps if hp.lookback_input else 0), hp.start_token, jnp.int32),
             jnp.full((batch,), hp.start_token, jnp.int32))
    gumbel_BxTxV = jax.vmap(
        lambda key: jax.random.gumbel(key, (num_steps, hp.num_classes), z_BxZ.dtype))(keys_B)
    step_in_bar_BxT, bar_BxT = bars_lib.time_positions(steps_per_bar_B, num_steps)
    plan = (context, bars_BxNxC, bar_states, steps_per_bar_B)
    body = functools.partial(_sample_body, guidance=guidance if guided else None, top_p=top_p,
                             repeat_penalty=repeat_penalty,
                             short_note_penalty=short_note_penalty,
                             keep_bias=None if keep_BxT is None else keep_bias)
    inputs = (step_in_bar_BxT.T, bar_BxT.T, jnp.swapaxes(gumbel_BxTxV, 0, 1),
              None if keep_BxT is None else jnp.asarray(keep_BxT, jnp.int32).T,
              None if tune_BxTxK is None else jnp.swapaxes(tune_BxTxK, 0, 1))
    sample = nn.scan(body, variable_broadcast="params", split_rngs={"params": False},
                     in_axes=(0, nn.broadcast, nn.broadcast), out_axes=0, unroll=hp.sample_unroll)
    _, (events_TxB, logits_TxBxV) = sample(self.step, carry, inputs, plan, temperature)
    return {"events": events_TxB.T.astype(jnp.int32), "logits": jnp.swapaxes(logits_TxBxV, 0, 1),
            "gumbel": gumbel_BxTxV}
