"""The judge's emotion features, differentiable: a consistency term that E cannot be fooled into.

The emotion labels are deterministic features of the notes (data/emotion.py): valence is the
Krumhansl-Schmuckler mode (the best of the 24 key profiles is major), arousal is
  onsets per bar / median + mean |interval| / median > 2.
This module computes the same quantities in JAX from a melody given as (nearly) one-hot rows
[B, T, V], so that the gradient reaches the decoder through the straight-through prior samples:
the note positions and durations come from the hard events (integers, no gradient), every value
read at them (is this an onset, which pitch) from the rows. On exact one-hot rows the features
equal data/emotion.py's and the signs of the margins are the judge's labels (a test checks both).

  valence margin = max_r(major profiles) - max_r(minor profiles)  (> 0: major);
  arousal margin = arousal score - 2                               (> 0: high arousal).
The term asks each margin to sit on the target quadrant's side by a softplus on the margin over
a scale, so a melody already well inside its quadrant costs (almost) nothing.

With a density cap c (loss.arousal_density_cap; 0: none), the term's arousal score counts
onsets per bar / median only up to c: onsets beyond what real tunes have earn nothing, so high
arousal must come from pitch movement too. The shipped fine-tune reached tense by density
alone, one pitch struck every sixteenth (issue 19 (ii)). The judge itself (labels, and E's
targets on samples) stays uncapped.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from hrnnvae.data import emotion as emotion_lib
from hrnnvae.data import events as events_lib

# Target signs per quadrant, in EMOTIONS order (happy, tense, sad, calm).
VALENCE_SIGN = np.array([1.0, -1.0, -1.0, 1.0], np.float32)
AROUSAL_SIGN = np.array([1.0, 1.0, -1.0, -1.0], np.float32)
VALENCE_SCALE = 0.05  # correlation units: a 0.05 margin between the best major and minor keys
AROUSAL_SCALE = 0.25  # arousal-score units (the score is about 2 for a typical melody)


def pitch_columns():
  """([P] MIDI pitch of each pitch event, [P, 12] its pitch class one-hot)."""
  pitches = np.arange(events_lib.MIN_PITCH, events_lib.MAX_PITCH + 1)
  return (jnp.asarray(pitches, jnp.float32),
          jnp.asarray(np.eye(12, dtype=np.float32)[pitches % 12]))


def standardize(values, axis=-1):
  """Centred and unit-norm; a constant row (a melody without notes) stays zero. The floor inside
  the square root keeps its gradient finite (sqrt'(0) is infinite, and NaN through a `where`)."""
  centred = values - values.mean(axis=axis, keepdims=True)
  norm = jnp.sqrt(jnp.maximum((centred ** 2).sum(axis=axis, keepdims=True), 1e-12))
  return centred / norm


def note_positions(events_BxT, lengths_B):
  """Integer structure from the hard events: onset mask, each onset's duration in steps, and
  the index of the previous onset (-1: none)."""
  batch, steps = events_BxT.shape
  t_1xT = jnp.arange(steps)[None, :]
  real = t_1xT < lengths_B[:, None]
  onset = (events_BxT >= events_lib.FIRST_PITCH_EVENT) & real
  change = ((events_BxT != events_lib.HOLD) & real) | ~real
  change_at = jnp.where(change, t_1xT, steps)
  next_change = jax.lax.cummin(change_at, axis=1, reverse=True)
  next_change = jnp.concatenate([next_change[:, 1:], jnp.full((batch, 1), steps)], axis=1)
  duration = jnp.where(onset, jnp.minimum(next_change, lengths_B[:, None]) - t_1xT, 0)
  last_onset = jax.lax.cummax(jnp.where(onset, t_1xT, -1), axis=1)
  previous_onset = jnp.concatenate([jnp.full((batch, 1), -1), last_onset[:, :-1]], axis=1)
  return onset, duration, previous_onset


def margins(rows_BxTxV, events_BxT, lengths_B, steps_per_bar_B,
            thresholds: emotion_lib.ArousalThresholds, density_cap: float = 0.0):
  """{'valence': [B], 'arousal': [B], 'note_density', 'mean_abs_interval', 'pitch_class_weights'}.

  rows: the melody as rows over the V event classes (one-hot, or straight-through samples);
  events: its hard events (argmax of the rows). density_cap: above 0, the arousal score's
  density part (onsets per bar / median) counts at most this much (0: the judge's own score).
  """
  pitch_P, pitch_class_Px12 = pitch_columns()
  onset_BxT, duration_BxT, previous_BxT = note_positions(events_BxT, lengths_B)
  real_BxT = jnp.arange(events_BxT.shape[1])[None, :] < lengths_B[:, None]
  pitch_rows = rows_BxTxV[..., events_lib.FIRST_PITCH_EVENT:] * real_BxT[..., None]
  # Read at every real step, not only at the hard onsets: on one-hot rows a non-onset step adds
  # nothing, but its gradient says what starting a note there would do (density can rise).
  onset_weight = pitch_rows.sum(-1)  # 1 at onsets
  # The pitch at each onset, as the rows' mean pitch over the pitch classes: its gradient moves
  # the pitch, never towards "pitch 0" by turning the note into a hold or a note-off.
  pitch_mass = jnp.where(onset_BxT, onset_weight, 1.0)
  pitch_BxT = jnp.where(onset_BxT, (pitch_rows @ pitch_P) / pitch_mass, 0.0)
  # Each onset weighs its duration (the labeller's rule); elsewhere a one-step note would.
  weight_BxT = jnp.where(onset_BxT, duration_BxT, 1).astype(rows_BxTxV.dtype)
  weights_Bx12 = jnp.einsum("btp,pc,bt->bc", pitch_rows, pitch_class_Px12, weight_BxT)
  profiles = jnp.asarray(emotion_lib.key_profiles(), jnp.float32)  # [24, 12]
  correlations = standardize(weights_Bx12) @ standardize(profiles).T
  valence = correlations[:, :12].max(-1) - correlations[:, 12:].max(-1)

  bars = jnp.maximum(lengths_B / steps_per_bar_B, 1e-9)
  density = onset_weight.sum(-1) / bars
  has_previous = onset_BxT & (previous_BxT >= 0)
  previous_pitch = jnp.take_along_axis(pitch_BxT, jnp.maximum(previous_BxT, 0), axis=1)
  intervals = jnp.abs(pitch_BxT - previous_pitch) * has_previous
  mean_interval = intervals.sum(-1) / jnp.maximum(has_previous.sum(-1), 1)
  density_part = density / max(thresholds.median_note_density, 1e-9)
  if density_cap > 0:
    density_part = jnp.minimum(density_part, density_cap)
  score = density_part + mean_interval / max(thresholds.median_mean_abs_interval, 1e-9)
  return {"valence": valence, "arousal": score - 2.0, "note_density": density,
          "mean_abs_interval": mean_interval, "pitch_class_weights": weights_Bx12}


def labels(found) -> jax.Array:
  """The quadrant [B] that the margins put a melody in (the judge's label)."""
  major, high = found["valence"] > 0, found["arousal"] > 0
  return jnp.where(major, jnp.where(high, 0, 3), jnp.where(high, 1, 2)).astype(jnp.int32)


def consistency_loss(found, target_B):
  """Mean over melodies of softplus(-sign * margin / scale) for valence and arousal: the term
  pushes each melody to the target quadrant's side of the judge's two thresholds."""
  valence_sign = jnp.asarray(VALENCE_SIGN)[target_B]
  arousal_sign = jnp.asarray(AROUSAL_SIGN)[target_B]
  return (jax.nn.softplus(-valence_sign * found["valence"] / VALENCE_SCALE)
          + jax.nn.softplus(-arousal_sign * found["arousal"] / AROUSAL_SCALE)).mean()
