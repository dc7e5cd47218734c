"""A realism term: how far generated melodies lie from real ones, differentiably (MMD on style).

The realism test (evaluation/realism.py) tells samples from real tunes by per-melody features:
intervals (our samples repeat the same pitch in 25% of intervals, real tunes in 10%), where in the
bar notes start, how dense they are. This module computes such features in JAX from melodies given
as (nearly) one-hot rows [B, T, V], as feature_consistency.py does for the judge's features, so
that a gradient reaches the decoder through straight-through samples:

  interval shares   among consecutive onsets: unison, 1-2, 3-4, 5-7, 8+ semitones       (5)
  onset positions   the share of a melody's onsets at each step of the bar              (16)
  density           onsets per step, and note-offs per step                              (2)
  note lengths      the share of its notes lasting 1, 2, 3, 4, 5-6, 7-8, 9+ steps (the length
                    is read off the hard events; the gradient says whether to start the note):
                    our samples hold quarter notes in 27% of notes, real tunes in 40%    (7)
  scale degrees     the share of its notes on each pitch class counted from the tonic of
                    the judge's key (Krumhansl-Schmuckler; the key itself carries no
                    gradient): our samples dwell on the tonic (35% of notes, real 24%;
                    the fine-tune's sad samples 40%, real sad tunes 22%)               (12)
  pitch spread      (with_spread, loss.realism_spread) the standard deviation of its notes'
                    pitches, in units of 4 octaves (floored at 0.1 octave): sad samples keep
                    to 2.4 semitones, real sad tunes 3.8, and a trill to 0.5             (1)
  long notes        (with_long_notes, loss.realism_long_notes) the share of its notes lasting
                    each of 9, 10, ..., 16 steps and over 16, the realism test's own bins
                    (evaluation/realism.py) where the note lengths above pool 9+: a fine-tune
                    on whole 32-bar spans held whole-bar notes (16 steps) in 4.6% of its notes,
                    real tunes in 0.4%, the classifier's first giveaway (issue 19 (xxxiv))  (9)
  mean pitch        (with_register, loss.realism_register) the mean MIDI pitch of its notes
                    minus 60, in octaves: the realism test's register/mean pitch. No other
                    column sees where a melody sits, and (xxxv)'s form arm sat 1.5 semitones
                    above the training spans, its first giveaway (issue 19 (xxxv))         (1)
  rest share        (with_rests, loss.realism_rests) the share of its steps where no note
                    sounds: the realism test's rest_share. A third of the training spans rest
                    (mostly the last beat of a bar), the form arms' samples almost never
                    (0.003 against 0.008), their second giveaway once samples are read in the
                    tunes' quadrant mix (issue 19 (xxxvi)); the note-off share above counts
                    a rest's first step only                                               (1)
  phrase similarity (with_phrases, loss.realism_phrases) metrics/melody.phrase_similarity:
                    the mean over pairs of its 4-bar phrases of the share of steps whose
                    events agree; the shipped model's 32-bar samples 0.835, the training
                    tunes 0.765: its phrases are variations of one figure (issue 19 (xxvii)),
                    a giveaway that no other column sees                                 (1)
  bar repetition    (with_bar_repetition, loss.realism_bar_repetition) within each 16-bar part,
                    metrics/melody.bar_repetition_rate: the share of its bars that restate an
                    earlier bar of their part exactly; real tunes' phrases differ yet restate
                    whole bars (32-bar tunes: phrase similarity 0.765, bar repetition 0.581),
                    and a fine-tune pulled by the phrases' column alone made phrases differ by
                    restating nothing (0.378; issue 19 (xxxi)). `bar_part_bars` sets the
                    part: 16 for the 16-bar training windows, 32 to count the whole of 32-bar
                    samples against 32-bar real spans (loss.realism_real_bars)            (1)
  4-gram repetition (with_gram_repetition, loss.realism_gram_repetition) within each part,
                    metrics/melody.ngram_repetition_rate: the share of its runs of 4
                    consecutive notes' pitches that restate an earlier run of their part;
                    the realism test's first giveaway of the bars' column (32-bar samples
                    0.440, training spans 0.603; issue 19 (xxxii)): whole bars restated, but
                    short figures recurring less than real tunes' do                      (1)
  part lift         (with_part_lift, loss.realism_part_lift) metrics/melody.part_lift in
                    octaves: the mean pitch of the notes struck in bars 17-32 minus that of
                    bars 1-16 (0 for a melody under 32 bars); the training tunes' second
                    part sits 0.7 semitones higher, (xxxi)'s posterior arm's 1.8         (1)
  phrase periods    (with_phrase_periods, loss.realism_phrase_periods) phrase similarity over
                    the pairs of 4-bar phrases an odd, then an even number of phrases apart
                    (the other, the same half of an 8-bar period): real tunes state a period
                    and restate it (32-bar training spans: odd 0.735, even 0.805), the
                    shipped model restates every phrase alike (0.819, 0.854: adjacent phrases
                    0.833 against the tunes' 0.762; issue 19 (xl))                       (2)

and compares the two sets of melodies by the squared maximum mean discrepancy (MMD, Gretton et
al. 2012) under a sum of Gaussian kernels, conditioned on the emotion: only pairs of the same
quadrant count (the kernel k(x, y) [e = e']), so each sample is pulled towards real tunes of the
quadrant it was asked for, and pushed away from its own quadrant's other samples (no collapse
onto one typical tune). Unlike matching averages, MMD is zero only when the distributions of the
features agree (for a characteristic kernel), which is what the realism classifier tests.
The scale degrees can also be compared alone (DEGREES; loss.realism_degree_weight), by an MMD
whose distance they do not share with the rhythm's 30 columns.
"""

from __future__ import annotations

import inspect

import jax
import jax.numpy as jnp
import numpy as np

from hrnnvae.data import emotion as emotion_lib
from hrnnvae.data import events as events_lib
from hrnnvae.feature_consistency import note_positions, pitch_columns, standardize
from hrnnvae.metrics import melody as melody_metrics

INTERVAL_EDGES = (0, 1, 3, 5, 8)  # bucket k holds |interval| in [edge_k, edge_k+1) semitones
POSITIONS = 16  # steps of the bar (16th notes of 4/4; shorter bars leave columns empty)
BANDWIDTHS = (0.05, 0.1, 0.2, 0.4)  # Gaussian kernel widths, in feature units (shares)
LENGTH_EDGES = (1, 2, 3, 4, 5, 7, 9)  # bucket k holds note lengths in [edge_k, edge_k+1) steps
LONG_NOTE_EDGES = tuple(range(9, 18))  # with_long_notes: bins 9, ..., 16 steps, then over 16
SPREAD_FLOOR = 0.1  # octaves: sqrt(variance + floor²), so the gradient stays under 1 / (2 floor)
# The spread feature is in units of 1 / SPREAD_SCALE octaves: in octaves, the second screen of
# issue 19 (h) still had an auxiliary gradient norm of 60-70 against 15-25 without the feature,
# and the emotion term starved under the shared clip.
SPREAD_SCALE = 0.25
NUM_FEATURES = len(INTERVAL_EDGES) + POSITIONS + 2 + len(LENGTH_EDGES) + 12
# The scale-degree shares' columns: the realism term can add an MMD of these alone
# (loss.realism_degree_weight). In the MMD over all NUM_FEATURES they share one distance with
# 30 other columns; scaling them up instead saturates the fixed-width kernels, and the MMD falls.
DEGREES = slice(NUM_FEATURES - 12, NUM_FEATURES)


PART_BARS = melody_metrics.PART_BARS  # bar_repetition counts repeats within parts this long
MAX_STEPS_PER_BAR = 32  # bar_repetition compares at most this many steps of a bar (data: 24)
GRAM_NOTES = 4  # gram_repetition's runs of notes: the realism test's (realism.melody_features)


def _interval_masks() -> jnp.ndarray:
  """[K, P, P]: 1 where two pitch events lie in interval bucket k."""
  pitches = np.arange(events_lib.MIN_PITCH, events_lib.MAX_PITCH + 1)
  distance = np.abs(pitches[:, None] - pitches[None, :])
  edges = (*INTERVAL_EDGES, np.inf)
  return jnp.asarray(np.stack([(distance >= low) & (distance < high)
                               for low, high in zip(edges[:-1], edges[1:])]), jnp.float32)


def style_features(rows_BxTxV, events_BxT, lengths_B, steps_per_bar_B,
                   with_spread: bool = False, with_long_notes: bool = False,
                   with_register: bool = False, with_rests: bool = False,
                   with_phrases: bool = False,
                   with_bar_repetition: bool = False, bar_part_bars: int = PART_BARS,
                   with_part_lift: bool = False,
                   with_gram_repetition: bool = False,
                   with_phrase_periods: bool = False) -> jax.Array:
  """[B, NUM_FEATURES (+ 1 with_spread) (+ 9 with_long_notes) (+ 1 with_register)
  (+ 1 with_rests) (+ 1 with_phrases)
  (+ 1 with_bar_repetition)
  (+ 1 with_gram_repetition) (+ 1 with_part_lift) (+ 2 with_phrase_periods)] per-melody
  style features (module docstring) of melodies given as rows over the V event classes
  (one-hot, or straight-through samples) and their hard events."""
  onset_BxT, duration_BxT, previous_BxT = note_positions(events_BxT, lengths_B)
  steps = events_BxT.shape[1]
  t_1xT = jnp.arange(steps)[None, :]
  real_BxT = t_1xT < lengths_B[:, None]
  pitch_rows = rows_BxTxV[..., events_lib.FIRST_PITCH_EVENT:] * real_BxT[..., None]
  onset_weight = pitch_rows.sum(-1)  # 1 at onsets; its gradient says what a note there would do
  has_previous = onset_BxT & (previous_BxT >= 0)
  previous_rows = jnp.take_along_axis(pitch_rows, jnp.maximum(previous_BxT, 0)[..., None], axis=1)
  in_bucket = jnp.einsum("btp,kpq,btq->btk", pitch_rows, _interval_masks(), previous_rows)
  intervals = (in_bucket * has_previous[..., None]).sum(1) / jnp.maximum(
      has_previous.sum(1), 1)[:, None]
  position_BxTxS = jax.nn.one_hot(t_1xT % steps_per_bar_B[:, None], POSITIONS)
  onsets = jnp.maximum(onset_BxT.sum(1), 1)[:, None]
  positions = jnp.einsum("bt,bts->bs", onset_weight, position_BxTxS) / onsets
  length = jnp.maximum(lengths_B, 1)[:, None]
  density = onset_weight.sum(1, keepdims=True) / length
  note_offs = (rows_BxTxV[..., events_lib.NOTE_OFF] * real_BxT).sum(1, keepdims=True) / length
  length_edges = jnp.asarray((*LENGTH_EDGES, steps + 1))
  in_length_BxTxK = ((duration_BxT[..., None] >= length_edges[:-1])
                     & (duration_BxT[..., None] < length_edges[1:]))
  note_lengths = jnp.einsum("bt,btk->bk", onset_weight, in_length_BxTxK.astype(onset_weight.dtype)
                            ) / onsets
  _, pitch_class_Px12 = pitch_columns()
  # The judge's key: each pitch class weighed by its notes' durations, against the 24 profiles.
  weighted_Bx12 = jnp.einsum("btp,pc,bt->bc", pitch_rows, pitch_class_Px12,
                             duration_BxT.astype(rows_BxTxV.dtype))
  profiles = jnp.asarray(emotion_lib.key_profiles(), jnp.float32)  # [24, 12]
  tonic_B = jax.lax.stop_gradient(
      jnp.argmax(standardize(weighted_Bx12) @ standardize(profiles).T, axis=-1) % 12)
  counts_Bx12 = jnp.einsum("btp,pc->bc", pitch_rows, pitch_class_Px12)
  degrees = jnp.take_along_axis(counts_Bx12, (jnp.arange(12)[None, :] + tonic_B[:, None]) % 12,
                                axis=1) / onsets
  features = [intervals, positions, density, note_offs, note_lengths, degrees]
  if with_spread:
    features.append(pitch_spread(pitch_rows, onsets))
  if with_long_notes:  # the realism test's bins of 9..16 steps, then over 16
    long_edges = jnp.asarray((*LONG_NOTE_EDGES, steps + 1))
    in_long_BxTxK = ((duration_BxT[..., None] >= long_edges[:-1])
                     & (duration_BxT[..., None] < long_edges[1:]))
    features.append(jnp.einsum("bt,btk->bk", onset_weight,
                               in_long_BxTxK.astype(onset_weight.dtype)) / onsets)
  if with_register:
    features.append(mean_pitch(pitch_rows, onsets))
  if with_rests:
    features.append(rest_share(rows_BxTxV, events_BxT, lengths_B))
  if with_phrases or with_phrase_periods:  # every lag's agreement once, for both
    agreements = phrase_agreements(rows_BxTxV, lengths_B, steps_per_bar_B)
  if with_phrases:
    features.append(phrase_share(*agreements)[:, None])
  if with_bar_repetition:
    features.append(bar_repetition(rows_BxTxV, events_BxT, lengths_B, steps_per_bar_B,
                                   part_bars=bar_part_bars)[:, None])
  if with_gram_repetition:
    features.append(gram_repetition(pitch_rows, onset_BxT, steps_per_bar_B,
                                    part_bars=bar_part_bars)[:, None])
  if with_part_lift:
    features.append(part_lift(pitch_rows, onset_BxT, lengths_B, steps_per_bar_B)[:, None])
  if with_phrase_periods:  # odd lags, then even
    features.append(jnp.stack([phrase_share(*agreements, parity) for parity in (1, 0)], 1))
  return jnp.concatenate(features, axis=1)


PHRASE_BARS = melody_metrics.PHRASE_BARS  # the metric's phrases
MIN_STEPS_PER_BAR = 4  # the shortest bar phrase_similarity counts every phrase pair of


def phrase_similarity(rows_BxTxV, lengths_B, steps_per_bar_B,
                      lag_parity: int | None = None) -> jax.Array:
  """[B] metrics/melody.phrase_similarity of melodies given as rows over the event classes:
  the melody's first `lengths` steps cut into whole PHRASE_BARS-bar phrases (a shorter tail
  dropped), and over the pairs of distinct phrases the mean share of steps whose rows agree
  (the dot product of the two steps' rows: 1 for equal one-hot events, so the figure is the
  metric's on hard events, and a straight-through sample passes its gradient to both steps).
  0 with fewer than two phrases. Exact for bars of at least MIN_STEPS_PER_BAR steps; the pairs
  are taken lag by lag (phrase j against phrase j + d), each lag one product of the rows with
  themselves shifted by d phrases. lag_parity 1 (0): only the lags d that are odd (even), as
  in the metric; 0 where no pair has that parity."""
  agreements = phrase_agreements(rows_BxTxV, lengths_B, steps_per_bar_B)
  return phrase_share(*agreements, lag_parity)


def phrase_agreements(rows_BxTxV, lengths_B, steps_per_bar_B):
  """(agreeing steps [B, 2], phrase pairs [B, 2], steps a phrase [B]) summed over the pairs of
  phrases an even (column 0) and an odd (column 1) number of phrases apart: what
  phrase_similarity and style_features' phrase columns share, each lag computed once."""
  steps = rows_BxTxV.shape[1]
  phrase_steps_B = PHRASE_BARS * steps_per_bar_B
  phrases_B = (jnp.minimum(lengths_B, steps) // steps_per_bar_B) // PHRASE_BARS
  t_1xT = jnp.arange(steps)[None, :]
  agreement = [jnp.zeros(rows_BxTxV.shape[0], rows_BxTxV.dtype)] * 2
  pairs = [jnp.zeros_like(phrases_B)] * 2
  for lag in range(1, max(steps // (PHRASE_BARS * MIN_STEPS_PER_BAR), 1)):
    pairs[lag % 2] = pairs[lag % 2] + jnp.maximum(phrases_B - lag, 0)
    later_BxT = jnp.minimum(t_1xT + (lag * phrase_steps_B)[:, None], steps - 1)
    later_rows = jnp.take_along_axis(rows_BxTxV, later_BxT[..., None], axis=1)
    counted_BxT = t_1xT < ((phrases_B - lag) * phrase_steps_B)[:, None]
    agreement[lag % 2] = agreement[lag % 2] + (
        (rows_BxTxV * later_rows).sum(-1) * counted_BxT).sum(1)
  return jnp.stack(agreement, 1), jnp.stack(pairs, 1), phrase_steps_B


def phrase_share(agreement_Bx2, pairs_Bx2, phrase_steps_B, lag_parity=None) -> jax.Array:
  """[B] phrase_similarity from phrase_agreements: over the lags of `lag_parity` (None: all)."""
  if lag_parity is None:
    agreement_B, pairs_B = agreement_Bx2.sum(1), pairs_Bx2.sum(1)
  else:
    agreement_B, pairs_B = agreement_Bx2[:, lag_parity], pairs_Bx2[:, lag_parity]
  return jnp.where(pairs_B > 0, agreement_B / jnp.maximum(pairs_B * phrase_steps_B, 1), 0.0)


def bar_repetition(rows_BxTxV, events_BxT, lengths_B, steps_per_bar_B,
                   part_bars: int = PART_BARS) -> jax.Array:
  """[B] the share of a melody's bars that restate an earlier bar of their part exactly:
  metrics/melody.bar_repetition_rate taken within each `part_bars`-bar part (its first bar not
  counted) and pooled over the parts, so that the training windows (16 bars) and longer samples
  measure the same thing. Only the melody's whole bars count, and only bars with an onset (hard
  events, no gradient), as in the metric. Two bars are equal when the product over their steps
  of the rows' agreement (the dot product of the two steps' rows) is 1: exact on one-hot rows,
  and for a straight-through sample a bar that differs from an earlier one in a single step
  has a gradient at that step. A bar repeats when 1 - prod over its part's earlier bars of
  (1 - equal) is 1. Pairs are taken lag by lag (bar k against bar k + d, d < part_bars)."""
  batch, steps = events_BxT.shape
  bars = steps // MIN_STEPS_PER_BAR
  bars_B = jnp.minimum(lengths_B, steps) // steps_per_bar_B
  bar_1xN = jnp.arange(bars)[None, :]
  position_1x1xS = jnp.arange(MAX_STEPS_PER_BAR)[None, None, :]
  in_bar_BxNxS = position_1x1xS < steps_per_bar_B[:, None, None]
  step_BxNxS = bar_1xN[..., None] * steps_per_bar_B[:, None, None] + position_1x1xS
  in_bar_BxNxS = in_bar_BxNxS & (step_BxNxS < steps)
  step_BxNxS = jnp.minimum(step_BxNxS, steps - 1)
  t_1xT = jnp.arange(steps)[None, :]
  fresh_BxN = jnp.ones((batch, bars), rows_BxTxV.dtype)  # prod over earlier bars of (1 - equal)
  for lag in range(1, part_bars):
    later_BxT = jnp.minimum(t_1xT + lag * steps_per_bar_B[:, None], steps - 1)
    later_rows = jnp.take_along_axis(rows_BxTxV, later_BxT[..., None], axis=1)
    agree_BxT = (rows_BxTxV * later_rows).sum(-1)
    agree_BxNxS = jnp.take_along_axis(agree_BxT, step_BxNxS.reshape(batch, -1), axis=1)
    equal_BxN = jnp.where(in_bar_BxNxS, agree_BxNxS.reshape(step_BxNxS.shape), 1.0).prod(-1)
    # equal_BxN[k]: bar k + lag restates bar k; moved to the later bar's index.
    equal_later_BxN = jnp.pad(equal_BxN, ((0, 0), (lag, 0)))[:, :bars]
    same_part_1xN = (bar_1xN % part_bars) >= lag
    fresh_BxN = fresh_BxN * (1.0 - equal_later_BxN * same_part_1xN)
  struck_BxT = (events_BxT >= events_lib.FIRST_PITCH_EVENT) & (t_1xT < lengths_B[:, None])
  struck_BxN = jnp.take_along_axis(struck_BxT, step_BxNxS.reshape(batch, -1), axis=1).reshape(
      step_BxNxS.shape)
  counted_BxN = ((struck_BxN & in_bar_BxNxS).any(-1) & (bar_1xN < bars_B[:, None])
                 & (bar_1xN % part_bars > 0))
  counted_BxN = counted_BxN.astype(rows_BxTxV.dtype)
  repeats_B = ((1.0 - fresh_BxN) * counted_BxN).sum(1)
  return repeats_B / jnp.maximum(counted_BxN.sum(1), 1.0)


def gram_repetition(pitch_rows_BxTxP, onset_BxT, steps_per_bar_B, part_bars: int = PART_BARS,
                    notes: int = GRAM_NOTES) -> jax.Array:
  """[B] the share of a melody's runs of `notes` consecutive notes that restate the pitches of
  an earlier run of their `part_bars`-bar part: metrics/melody.ngram_repetition_rate (1 -
  distinct / total) taken within each part and pooled over the parts, as bar_repetition is. A
  run belongs to a part when all its notes start there. The notes are the hard onsets in order
  (onset_BxT, within the melody's length), their pitches the pitch rows there (one-hot at
  onsets). Two runs are equal when the product over their notes of the rows' agreement (the
  dot product of the two notes' rows) is 1; a run repeats when it equals an earlier run of its
  part. For rows whose values are one-hot (hard events, or straight-through samples) that is
  1 - the product over the earlier runs of (1 - equal), and the value and gradient here are
  exactly that product's, without its costly gradient: d repeats / d equal_i is 1 when no other
  earlier run is equal, else 0. So a run that differs from an earlier one in one note has a
  gradient at that note (toward the earlier run's pitch). Every pair of notes is compared:
  [B, T, T] agreements."""
  steps = onset_BxT.shape[1]
  t_1xT = jnp.arange(steps)[None, :]
  # The k-th note's step: onset steps first, in order (a stable sort of "not an onset").
  note_step_BxK = jnp.argsort(~onset_BxT, axis=1, stable=True)
  notes_B = onset_BxT.sum(1)
  k_1xK = t_1xT  # note indices run over as many slots as there are steps
  is_note_BxK = k_1xK < notes_B[:, None]
  note_rows_BxKxP = jnp.take_along_axis(pitch_rows_BxTxP, note_step_BxK[..., None], axis=1)
  note_rows_BxKxP = note_rows_BxKxP * is_note_BxK[..., None]
  part_BxK = jnp.where(is_note_BxK, note_step_BxK // (part_bars * steps_per_bar_B[:, None]), -1)
  agree_BxKxK = jnp.einsum("bip,bjp->bij", note_rows_BxKxP, note_rows_BxKxP)
  equal_BxKxK = agree_BxKxK
  for offset in range(1, notes):  # run i against run j: notes i + m against j + m
    shifted = jnp.pad(agree_BxKxK[:, offset:, offset:], ((0, 0), (0, offset), (0, offset)))
    equal_BxKxK = equal_BxKxK * shifted
  last_part_BxK = jnp.pad(part_BxK[:, notes - 1:], ((0, 0), (0, notes - 1)), constant_values=-1)
  run_BxK = (last_part_BxK == part_BxK) & (part_BxK >= 0)  # a whole run within one part
  earlier_1xKxK = k_1xK[:, :, None] < k_1xK[:, None, :]  # [i, j]: run i before run j
  compared_BxKxK = (earlier_1xKxK & run_BxK[:, :, None] & run_BxK[:, None, :]
                    & (part_BxK[:, :, None] == part_BxK[:, None, :]))
  equal_BxKxK = jnp.where(compared_BxKxK, equal_BxKxK, 0.0)
  exact_BxKxK = jax.lax.stop_gradient(equal_BxKxK > 0.5).astype(equal_BxKxK.dtype)
  matches_BxK = exact_BxKxK.sum(1)  # run j: how many earlier runs it equals
  alone_BxKxK = (matches_BxK[:, None, :] - exact_BxKxK) == 0  # no other earlier run equal
  repeats_BxK = jnp.minimum(matches_BxK, 1.0) + (
      (equal_BxKxK - jax.lax.stop_gradient(equal_BxKxK)) * alone_BxKxK).sum(1)
  counted_BxK = run_BxK.astype(pitch_rows_BxTxP.dtype)
  repeats_B = (repeats_BxK * counted_BxK).sum(1)
  return repeats_B / jnp.maximum(counted_BxK.sum(1), 1.0)


def part_lift(pitch_rows_BxTxP, onset_BxT, lengths_B, steps_per_bar_B,
              part_bars: int = PART_BARS) -> jax.Array:
  """[B] metrics/melody.part_lift in octaves: the mean pitch of the notes struck in whole bars
  part_bars + 1 .. 2 * part_bars minus that of bars 1 .. part_bars, from the pitch rows (one-hot
  at onsets, zero elsewhere; their gradient moves the pitches), each mean over the part's hard
  onsets; 0 for a melody under 2 * part_bars whole bars or without a note in each part (the
  metric's NaN)."""
  steps = onset_BxT.shape[1]
  octaves_P = jnp.arange(pitch_rows_BxTxP.shape[-1], dtype=jnp.float32) / 12.0
  pitch_BxT = jnp.einsum("btp,p->bt", pitch_rows_BxTxP, octaves_P)
  part_of_BxT = jnp.arange(steps)[None, :] // (part_bars * steps_per_bar_B[:, None])
  means, counts = [], []
  for part in (0, 1):
    in_part = ((part_of_BxT == part) & onset_BxT).astype(pitch_BxT.dtype)
    counts.append(in_part.sum(1))
    means.append((pitch_BxT * in_part).sum(1) / jnp.maximum(counts[-1], 1.0))
  whole_B = jnp.minimum(lengths_B, steps) // steps_per_bar_B >= 2 * part_bars
  return jnp.where(whole_B & (counts[0] > 0) & (counts[1] > 0), means[1] - means[0], 0.0)


REGISTER_CENTRE = 60  # the MIDI pitch mean_pitch measures from (the realism test's)


def mean_pitch(pitch_rows_BxTxP, onsets_Bx1) -> jax.Array:
  """[B, 1] the mean MIDI pitch of a melody's notes minus REGISTER_CENTRE, in octaves, from its
  rows over the pitch events (one-hot at onsets, zero elsewhere; their gradient moves the
  pitches): evaluation/realism.melody_features' register/mean pitch (0 with no note)."""
  octaves_P = (jnp.arange(pitch_rows_BxTxP.shape[-1], dtype=jnp.float32)
               + events_lib.MIN_PITCH - REGISTER_CENTRE) / 12.0
  return jnp.einsum("btp,p->b", pitch_rows_BxTxP, octaves_P)[:, None] / onsets_Bx1


def rest_share(rows_BxTxV, events_BxT, lengths_B) -> jax.Array:
  """[B, 1] the share of a melody's first `lengths` steps where no note sounds: the realism
  test's rest_share (1 - its notes' steps / its steps). From the hard events: the steps before
  the first note, plus for each step t where a note sounded at t - 1 its NOTE_OFF row times the
  steps from t to the next onset (or the melody's end). On hard events that is every rest once
  (a rest begins at the note-off that ends a note; later note-offs in it count nothing); its
  gradient at a sounding step says what ending the note there would do (a rest until the next
  onset), so the column can ask for rests, not only keep them."""
  steps = events_BxT.shape[1]
  t_1xT = jnp.arange(steps)[None, :]
  real_BxT = t_1xT < lengths_B[:, None]
  onset_BxT = (events_BxT >= events_lib.FIRST_PITCH_EVENT) & real_BxT
  # what sounds at each step: the last event that is not HOLD, if a pitch
  changed_at = jax.lax.cummax(jnp.where(events_BxT != events_lib.HOLD, t_1xT, -1), axis=1)
  last_event = jnp.take_along_axis(events_BxT, jnp.maximum(changed_at, 0), axis=1)
  sounding_BxT = (changed_at >= 0) & (last_event >= events_lib.FIRST_PITCH_EVENT)
  sounded_before_BxT = jnp.pad(sounding_BxT[:, :-1], ((0, 0), (1, 0)))
  next_onset = jax.lax.cummin(jnp.where(onset_BxT, t_1xT, steps), axis=1, reverse=True)
  next_onset_after = jnp.pad(next_onset[:, 1:], ((0, 0), (0, 1)), constant_values=steps)
  gap_BxT = jnp.minimum(next_onset_after, lengths_B[:, None]) - t_1xT
  ends_here = (sounded_before_BxT & real_BxT).astype(rows_BxTxV.dtype) * gap_BxT
  first_onset = jnp.min(jnp.where(onset_BxT, t_1xT, steps), axis=1)
  leading_B = jnp.minimum(first_onset, lengths_B).astype(rows_BxTxV.dtype)
  rests_B = leading_B + (rows_BxTxV[..., events_lib.NOTE_OFF] * ends_here).sum(1)
  return (rests_B / jnp.maximum(lengths_B, 1))[:, None]


def pitch_spread(pitch_rows_BxTxP, onsets_Bx1) -> jax.Array:
  """[B, 1] the standard deviation of the pitches of a melody's notes (rows over the pitch
  events, one-hot at onsets and zero elsewhere), in octaves times SPREAD_SCALE, floored smoothly at
  SPREAD_FLOOR: a near-constant melody's spread would otherwise have a near-infinite gradient
  (the first screen without it swamped the emotion term's: BUILD_NOTES.md, issue 19 (h))."""
  octaves_P = jnp.arange(pitch_rows_BxTxP.shape[-1], dtype=jnp.float32) / 12.0
  mean = jnp.einsum("btp,p->b", pitch_rows_BxTxP, octaves_P)[:, None] / onsets_Bx1
  square = jnp.einsum("btp,p->b", pitch_rows_BxTxP, octaves_P ** 2)[:, None] / onsets_Bx1
  return SPREAD_SCALE * jnp.sqrt(jnp.maximum(square - mean ** 2, 0.0) + SPREAD_FLOOR ** 2)


def _kernel(a_NxF, b_MxF) -> jax.Array:
  squared = ((a_NxF[:, None, :] - b_MxF[None, :, :]) ** 2).sum(-1)
  return sum(jnp.exp(-squared / (2.0 * width ** 2)) for width in BANDWIDTHS)


# style_features' keyword options (every column switch and the part length): static under jit.
STYLE_OPTIONS = tuple(name for name, parameter in inspect.signature(style_features).parameters.items()
                      if parameter.default is not inspect.Parameter.empty)
# style_features compiled whole, one program per shape and options, for callers outside a jitted
# step (realism_spans.real_spans, the tests): run op by op it compiles hundreds of small programs.
compiled_style_features = jax.jit(style_features, static_argnames=STYLE_OPTIONS)


def conditional_mmd(generated_NxF, generated_emotion_N, real_MxF, real_emotion_M,
                    per_quadrant: bool = False) -> jax.Array:
  """The unbiased squared MMD between (features, emotion) pairs of generated and real melodies
  under k(x, y) [e = e'] (module docstring); the real side carries no gradient.

  per_quadrant=False: one MMD of the joint distributions, every sum over all N² / M² / NM pairs.
  When the two sides' emotion shares differ (the fine-tune asks for the four quadrants alike;
  only ~10% of Nottingham's windows are tense), a quadrant with more samples than real tunes is
  pushed apart from itself more than it is pulled to its real tunes: the 400-step screen of issue
  19 (g) found the term raising tense samples' off-beat sixteenths. per_quadrant=True: the mean
  over quadrants of the MMD between p(features | quadrant) on each side, each sum over that
  quadrant's pairs (a quadrant counts when it has at least two samples and one real melody;
  its real-real term, which carries no gradient, when it has two)."""
  real_MxF = jax.lax.stop_gradient(real_MxF)
  if per_quadrant:
    return _per_quadrant_mmd(generated_NxF, generated_emotion_N, real_MxF, real_emotion_M)
  same_gg = (generated_emotion_N[:, None] == generated_emotion_N[None, :]).astype(jnp.float32)
  same_gr = (generated_emotion_N[:, None] == real_emotion_M[None, :]).astype(jnp.float32)
  same_rr = (real_emotion_M[:, None] == real_emotion_M[None, :]).astype(jnp.float32)
  n, m = generated_NxF.shape[0], real_MxF.shape[0]
  off_n, off_m = 1.0 - jnp.eye(n), 1.0 - jnp.eye(m)
  k_gg = (_kernel(generated_NxF, generated_NxF) * same_gg * off_n).sum() / max(n * (n - 1), 1)
  k_rr = (_kernel(real_MxF, real_MxF) * same_rr * off_m).sum() / max(m * (m - 1), 1)
  k_gr = (_kernel(generated_NxF, real_MxF) * same_gr).sum() / (n * m)
  return k_gg + k_rr - 2.0 * k_gr


def _per_quadrant_mmd(generated_NxF, generated_emotion_N, real_MxF, real_emotion_M) -> jax.Array:
  quadrants = jnp.arange(len(emotion_lib.EMOTIONS))
  in_g_QxN = (generated_emotion_N[None, :] == quadrants[:, None]).astype(jnp.float32)
  in_r_QxM = (real_emotion_M[None, :] == quadrants[:, None]).astype(jnp.float32)
  n_Q, m_Q = in_g_QxN.sum(1), in_r_QxM.sum(1)
  off_n, off_m = 1.0 - jnp.eye(generated_NxF.shape[0]), 1.0 - jnp.eye(real_MxF.shape[0])
  k_gg_Q = jnp.einsum("qi,ij,qj->q", in_g_QxN, _kernel(generated_NxF, generated_NxF) * off_n,
                      in_g_QxN) / jnp.maximum(n_Q * (n_Q - 1), 1)
  k_rr_Q = jnp.einsum("qi,ij,qj->q", in_r_QxM, _kernel(real_MxF, real_MxF) * off_m,
                      in_r_QxM) / jnp.maximum(m_Q * (m_Q - 1), 1)
  k_gr_Q = jnp.einsum("qi,ij,qj->q", in_g_QxN, _kernel(generated_NxF, real_MxF),
                      in_r_QxM) / jnp.maximum(n_Q * m_Q, 1)
  counted_Q = (n_Q >= 2) & (m_Q >= 1)
  mmd_Q = k_gg_Q + jnp.where(m_Q >= 2, k_rr_Q, 0.0) - 2.0 * k_gr_Q
  return jnp.where(counted_Q, mmd_Q, 0.0).sum() / jnp.maximum(counted_Q.sum(), 1)
