"""Tempered, nucleus-truncated logits for the decoders' Gumbel-max sampling.

Nucleus (top-p) sampling (Holtzman et al. 2020, "The curious case of neural text degeneration")
draws each event from the smallest set of most likely events whose probability reaches top_p,
renormalised; the rest of the distribution's tail, where a few unlikely wrong notes come from,
is never drawn. argmax(nucleus_logits(...) + Gumbel noise) is a draw from that distribution.

The repeat penalty (`repeat_penalized`, CTRL's repetition penalty of Keskar et al. 2019 narrowed
to one event) divides the tempered probability of striking again the pitch struck last by r
before the nucleus is taken: a sampling-time control on the repeated notes that give samples
away (issue 19), chosen on the validation split like the temperature and top_p.

The short-note penalty (`short_note_penalized`) does the same for one-step notes: right after a
pitch is struck, every event that would end it (a new pitch or NOTE_OFF) is s times less likely
against holding it. Real Nottingham tunes have about 1% one-step (16th) notes; a fine-tuned
decoder asked for tense tunes wrote half its notes so, reaching the judge's arousal by density
(issue 19).
"""

import jax
import jax.numpy as jnp

from hrnnvae.data import events as events_lib

# Events sorted first: the nucleus almost always lies among the few most likely events, and a
# top-k of them costs a third of a full sort of the 90 (a 32-bar melody: 512 of these a melody).
CANDIDATES = 16


def _least_in_nucleus(sorted_BxK: jax.Array, top_p) -> jax.Array:
  """[B, 1] the probability of the nucleus's least likely event, from probabilities sorted most
  likely first (all of them, or the top K when those reach top_p: the same first K sums)."""
  mass_before_BxK = jnp.cumsum(sorted_BxK, axis=-1) - sorted_BxK
  in_nucleus_BxK = mass_before_BxK < top_p  # the most likely event always is (0 < top_p)
  return jnp.min(jnp.where(in_nucleus_BxK, sorted_BxK, jnp.inf), axis=-1, keepdims=True)


def nucleus_logits(logits_BxV: jax.Array, temperature, top_p=None) -> jax.Array:
  """logits / temperature, with every event outside the top-p nucleus of that tempered
  distribution set to -inf. top_p None keeps every event (plain temperature sampling). An event
  tied in probability with the nucleus's least likely one is kept too. The nucleus is found
  among the CANDIDATES most likely events when they reach top_p in every row, else by a full
  sort: exact either way."""
  tempered_BxV = logits_BxV / temperature
  if top_p is None:
    return tempered_BxV
  probs_BxV = jax.nn.softmax(tempered_BxV, axis=-1)
  candidates = min(CANDIDATES, probs_BxV.shape[-1])
  top_BxK, _ = jax.lax.top_k(probs_BxV, candidates)
  covered = jnp.all(jnp.cumsum(top_BxK, axis=-1)[..., -1] >= top_p)
  least_B1 = jax.lax.cond(
      covered, lambda: _least_in_nucleus(top_BxK, top_p),
      lambda: _least_in_nucleus(-jnp.sort(-probs_BxV, axis=-1), top_p))
  return jnp.where(probs_BxV >= least_B1, tempered_BxV, -jnp.inf)


def repeat_penalized(logits_BxV: jax.Array, last_pitch_B: jax.Array, repeat_penalty,
                     temperature) -> jax.Array:
  """logits with the event of each row's last struck pitch lowered by temperature * log(r), so
  that after tempering its probability relative to every other event is divided by r (r = 1:
  unchanged). last_pitch_B: an event index, or any value outside [0, V) (the start token) where
  no pitch has been struck yet. HOLD and NOTE_OFF are never penalised."""
  last_BxV = jnp.arange(logits_BxV.shape[-1]) == last_pitch_B[:, None]
  return logits_BxV - jnp.where(last_BxV, temperature * jnp.log(repeat_penalty), 0.0).astype(
      logits_BxV.dtype)


def short_note_penalized(logits_BxV: jax.Array, previous_event_B: jax.Array, short_note_penalty,
                         temperature) -> jax.Array:
  """logits with HOLD raised by temperature * log(s) in each row whose previous event struck a
  pitch, so that after tempering a note that lasts one step is s times less likely against one
  that goes on (s = 1: unchanged). previous_event_B: the event fed back at the step before, or
  any value outside [FIRST_PITCH_EVENT, V) (the start token, HOLD, NOTE_OFF) for no new note."""
  struck_B = (previous_event_B >= events_lib.FIRST_PITCH_EVENT) & (
      previous_event_B < logits_BxV.shape[-1])
  hold_BxV = (jnp.arange(logits_BxV.shape[-1]) == events_lib.HOLD) & struck_B[:, None]
  return logits_BxV + jnp.where(hold_BxV, temperature * jnp.log(short_note_penalty), 0.0).astype(
      logits_BxV.dtype)
