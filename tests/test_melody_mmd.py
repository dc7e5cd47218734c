"""The realism term's style features and conditional MMD (hrnnvae/melody_mmd.py), and the
fine-tune term built on them (train/aux_terms.realism_term)."""

import dataclasses
import functools
import types

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hrnnvae import judge, melody_mmd
from hrnnvae.data import events as events_lib
from hrnnvae.evaluation import realism
from hrnnvae.train import aux_terms
from hrnnvae.train.step import LossHParams

from conftest import load_config

V = events_lib.NUM_CLASSES


def _compiled(function, *static):
  """`function` compiled whole, its keyword options static, as training calls it: run op by
  op, each shape compiled a hundred small programs (most of this file's time)."""
  return jax.jit(function, static_argnames=static)


# The functions under test, compiled (the module's own names, so each test reads as before).
mmd = types.SimpleNamespace(
    style_features=melody_mmd.compiled_style_features,
    bar_repetition=_compiled(melody_mmd.bar_repetition, "part_bars"),
    gram_repetition=_compiled(melody_mmd.gram_repetition, "part_bars", "notes"),
    phrase_similarity=_compiled(melody_mmd.phrase_similarity, "lag_parity"),
    conditional_mmd=_compiled(melody_mmd.conditional_mmd, "per_quadrant"))


def _realism_term(inputs: aux_terms.TermInputs):
  """aux_terms.realism_term compiled whole, as in a train step (its models' fields closed over)."""
  return jax.jit(lambda batch, prior, samples: aux_terms.realism_term(inputs._replace(
      batch=batch, prior=prior, samples_BxTxV=samples)))(inputs.batch, inputs.prior,
                                                          inputs.samples_BxTxV)


def _numpy_features(events, length, steps_per_bar):
  """Plain-numpy reference: the notes' onsets and pitches, read off the events."""
  onsets = [(t, events_lib.event_to_pitch(int(e))) for t, e in enumerate(events[:length])
            if e >= events_lib.FIRST_PITCH_EVENT]
  edges = (*melody_mmd.INTERVAL_EDGES, np.inf)
  intervals = np.zeros(len(edges) - 1)
  for (_, previous), (_, pitch) in zip(onsets, onsets[1:]):
    distance = abs(pitch - previous)
    intervals[next(k for k in range(len(intervals)) if edges[k] <= distance < edges[k + 1])] += 1
  intervals /= max(len(onsets) - 1, 1)
  positions = np.zeros(melody_mmd.POSITIONS)
  for t, _ in onsets:
    positions[t % steps_per_bar] += 1
  positions /= max(len(onsets), 1)
  note_offs = sum(int(e) == events_lib.NOTE_OFF for e in events[:length])
  notes = [n for n in events_lib.events_to_notes(events[:length]) if n[2] is not None]
  length_edges = (*melody_mmd.LENGTH_EDGES, np.inf)
  note_lengths = np.zeros(len(melody_mmd.LENGTH_EDGES))
  for start, end, _ in notes:
    note_lengths[next(k for k in range(len(note_lengths))
                      if length_edges[k] <= end - start < length_edges[k + 1])] += 1
  note_lengths /= max(len(onsets), 1)
  tonic = int(judge.features([events[:length]], steps_per_bar).key_tonic[0])
  degrees = np.bincount([(pitch - tonic) % 12 for _, pitch in onsets], minlength=12)
  return np.concatenate([intervals, positions, [len(onsets) / length, note_offs / length],
                         note_lengths, degrees / max(len(onsets), 1)])


def _melodies(seed, batch=12, steps=48, repeat_share=0.1):
  """Random melodies: onsets every 1-4 steps, a pitch that repeats with repeat_share or moves."""
  rng = np.random.default_rng(seed)
  events = np.zeros((batch, steps), np.int64)
  for row in range(batch):
    pitch, t = 67, 0
    while t < steps:
      if rng.random() < 0.1:
        events[row, t] = events_lib.NOTE_OFF
      else:
        if rng.random() >= repeat_share:
          pitch = int(np.clip(pitch + rng.choice([-7, -4, -2, -1, 1, 2, 3, 5, 9]), 55, 84))
        events[row, t] = events_lib.pitch_to_event(pitch)
      t += int(rng.integers(1, 5))
  return events


def test_style_features_match_a_numpy_reference():
  events = _melodies(0)
  lengths = np.array([48] * 6 + [40] * 3 + [24] * 3)
  steps_per_bar = np.array([16] * 9 + [12] * 3)
  found = mmd.style_features(jax.nn.one_hot(events, V), jnp.asarray(events),
                             jnp.asarray(lengths), jnp.asarray(steps_per_bar))
  chex.assert_shape(found, (12, melody_mmd.NUM_FEATURES))
  chex.assert_type(found, jnp.float32)
  expected = np.stack([_numpy_features(e, n, s) for e, n, s in zip(events, lengths, steps_per_bar)])
  np.testing.assert_allclose(np.asarray(found), expected, atol=1e-6)


def test_the_pitch_spread_is_the_notes_pitch_deviation_in_octaves_and_a_trill_has_little():
  events = _melodies(0)
  lengths = np.array([48] * 6 + [40] * 3 + [24] * 3)
  steps_per_bar = np.array([16] * 9 + [12] * 3)
  args = (jax.nn.one_hot(events, V), jnp.asarray(events), jnp.asarray(lengths),
          jnp.asarray(steps_per_bar))
  plain, found = mmd.style_features(*args), mmd.style_features(*args, with_spread=True)
  chex.assert_shape(found, (12, melody_mmd.NUM_FEATURES + 1))
  np.testing.assert_array_equal(found[:, :-1], plain)
  deviations = np.array([np.std([events_lib.event_to_pitch(int(e)) for e in row[:n]
                                  if e >= events_lib.FIRST_PITCH_EVENT]) / 12
                         for row, n in zip(events, lengths)])
  floored = melody_mmd.SPREAD_SCALE * np.sqrt(deviations ** 2 + melody_mmd.SPREAD_FLOOR ** 2)
  np.testing.assert_allclose(np.asarray(found[:, -1]), floored, atol=1e-4)
  trill = np.tile([events_lib.pitch_to_event(72), events_lib.pitch_to_event(73)], (1, 24))
  spread = mmd.style_features(jax.nn.one_hot(trill, V), jnp.asarray(trill), jnp.full(1, 48),
                              jnp.full(1, 16), with_spread=True)[0, -1]
  assert float(spread) == pytest.approx(
      melody_mmd.SPREAD_SCALE * np.hypot(0.5 / 12, melody_mmd.SPREAD_FLOOR), abs=1e-4)
  # Its gradient stays bounded for a melody of one repeated pitch.
  held = np.full((1, 48), events_lib.pitch_to_event(72))
  grad = jax.grad(lambda rows: mmd.style_features(
      rows, jnp.asarray(held), jnp.full(1, 48), jnp.full(1, 16), with_spread=True)[0, -1])(
          jax.nn.one_hot(held, V))
  assert np.isfinite(np.asarray(grad)).all()
  assert float(jnp.abs(grad).max()) < 1 / (2 * melody_mmd.SPREAD_FLOOR)


def _phrased(seed, batch=12, steps_per_bar=16, bars=16, restated=0.5, apart=1):
  """Random melodies (as _melodies) in which each 4-bar phrase from the (apart + 1)-th on
  restates the one `apart` phrases before with probability `restated`, a step at a time: with
  apart 1 a melody of variations of one figure, with 2 of one 8-bar period restated."""
  rng = np.random.default_rng(seed)
  events = _melodies(seed, batch, steps_per_bar * bars)
  phrase = melody_mmd.PHRASE_BARS * steps_per_bar
  for start in range(apart * phrase, events.shape[1] - phrase + 1, phrase):
    keep = rng.random((batch, phrase)) < restated
    earlier = start - apart * phrase
    events[:, start:start + phrase] = np.where(keep, events[:, earlier:earlier + phrase],
                                               events[:, start:start + phrase])
  return events


def test_phrase_similarity_is_the_metric_on_hard_events_in_every_meter_and_length():
  from hrnnvae.metrics import melody as melody_metrics
  for steps_per_bar, bars in ((16, 16), (12, 16), (24, 8), (8, 12)):
    events = _phrased(steps_per_bar, steps_per_bar=steps_per_bar, bars=bars)
    steps = events.shape[1]
    # Whole windows, a ragged tail, two phrases, one phrase (0), and under a bar.
    lengths = np.array([steps] * 6 + [steps - 5, steps - steps_per_bar - 1,
                                      8 * steps_per_bar, 8 * steps_per_bar - 1, 4 * steps_per_bar,
                                      steps_per_bar - 1])
    lengths = np.minimum(lengths, steps)
    found = mmd.phrase_similarity(jax.nn.one_hot(events, V), jnp.asarray(lengths),
                                  jnp.full(12, steps_per_bar))
    chex.assert_shape(found, (12,))
    expected = [melody_metrics.phrase_similarity(row[:n], steps_per_bar)
                for row, n in zip(events, lengths)]
    np.testing.assert_allclose(np.asarray(found), expected, atol=1e-6)
    assert float(found[0]) > 0.3 and float(found[-1]) == 0.0
    for parity in (0, 1):  # the pairs an even, an odd number of phrases apart
      found = mmd.phrase_similarity(jax.nn.one_hot(events, V), jnp.asarray(lengths),
                                    jnp.full(12, steps_per_bar), lag_parity=parity)
      expected = [melody_metrics.phrase_similarity(row[:n], steps_per_bar, lag_parity=parity)
                  for row, n in zip(events, lengths)]
      np.testing.assert_allclose(np.asarray(found), expected, atol=1e-6)
  # The column the realism term adds: the plain features, then the phrases' similarity.
  events = _phrased(1)
  args = (jax.nn.one_hot(events, V), jnp.asarray(events), jnp.full(12, 256), jnp.full(12, 16))
  plain = mmd.style_features(*args)
  both = mmd.style_features(*args, with_spread=True, with_phrases=True)
  chex.assert_shape(both, (12, melody_mmd.NUM_FEATURES + 2))
  np.testing.assert_array_equal(both[:, :-2], plain)
  np.testing.assert_allclose(both[:, -1], mmd.phrase_similarity(*args[:1], *args[2:]))
  # The periods' two columns come last: the odd lags', then the even lags'.
  periods = mmd.style_features(*args, with_phrases=True, with_phrase_periods=True)
  chex.assert_shape(periods, (12, melody_mmd.NUM_FEATURES + 3))
  np.testing.assert_array_equal(periods[:, :-2], mmd.style_features(*args, with_phrases=True))
  for column, parity in ((-2, 1), (-1, 0)):
    np.testing.assert_allclose(periods[:, column], mmd.phrase_similarity(
        *args[:1], *args[2:], lag_parity=parity))


def test_the_phrase_columns_gradient_makes_restated_phrases_differ():
  """Melodies that restate their phrases nine steps in ten against ones that restate them half
  the time: the MMD with the phrase column sees the gap, and a small step along its gradient
  through the rows lowers the MMD and the restating side's phrase similarity."""
  looping, varied = _phrased(2, restated=0.9), _phrased(3, restated=0.5)
  lengths, steps_per_bar = jnp.full(12, looping.shape[1]), jnp.full(12, 16)
  emotion = jnp.zeros(12, jnp.int32)

  def features(rows, events):
    return mmd.style_features(rows, jnp.asarray(events), lengths, steps_per_bar,
                              with_phrases=True)

  real = features(jax.nn.one_hot(varied, V), varied)
  def mmd_of_rows(rows):
    found = features(rows, looping)
    return mmd.conditional_mmd(found, emotion, real, emotion), found

  (before, found), grads = jax.value_and_grad(mmd_of_rows, has_aux=True)(
      jax.nn.one_hot(looping, V))
  assert float(found[:, -1].mean()) > float(real[:, -1].mean()) + 0.2
  assert np.isfinite(np.asarray(grads)).all()
  # Small: the interval shares are not shares once the rows leave the one-hot corners.
  step = 0.001 / float(jnp.abs(grads).max())
  after, moved = mmd_of_rows(jax.nn.one_hot(looping, V) - step * grads)
  assert float(after) < float(before)
  assert float(moved[:, -1].mean()) < float(found[:, -1].mean())


def _numpy_bar_repetition(events, length, steps_per_bar, part_bars=melody_mmd.PART_BARS):
  """Plain-numpy reference: metrics/melody.bar_repetition_rate's rule within each part, pooled."""
  bars = np.asarray(events[:length // steps_per_bar * steps_per_bar]).reshape(-1, steps_per_bar)
  repeats = counted = 0
  for start in range(0, len(bars), part_bars):
    part = bars[start:start + part_bars]
    for index, bar in enumerate(part):
      if index and (bar >= events_lib.FIRST_PITCH_EVENT).any():
        counted += 1
        repeats += any((bar == earlier).all() for earlier in part[:index])
  return repeats / counted if counted else 0.0


def _with_restated_bars(seed, batch, steps_per_bar, bars, restated):
  """Random melodies whose bars each restate a random earlier bar with probability `restated`;
  some bars are left without an onset (held or silent), which the metric does not count."""
  rng = np.random.default_rng(seed)
  events = _melodies(seed, batch, steps_per_bar * bars).reshape(batch, bars, steps_per_bar)
  for row in range(batch):
    for bar in range(1, bars):
      if rng.random() < restated:
        events[row, bar] = events[row, rng.integers(bar)]
      elif rng.random() < 0.1:
        events[row, bar] = rng.choice([events_lib.HOLD, events_lib.NOTE_OFF])
  return events.reshape(batch, -1)


def test_bar_repetition_is_the_metric_within_each_part_in_every_meter_and_length():
  from hrnnvae.metrics import melody as melody_metrics
  for steps_per_bar, bars in ((16, 16), (12, 32), (24, 8), (8, 40), (16, 32)):
    events = _with_restated_bars(steps_per_bar, 10, steps_per_bar, bars, restated=0.4)
    steps = events.shape[1]
    lengths = np.minimum(np.array([steps, steps, steps, steps - 5, steps - steps_per_bar - 1,
                                   17 * steps_per_bar, 16 * steps_per_bar, 3 * steps_per_bar,
                                   steps_per_bar, steps_per_bar - 1]), steps)
    found = mmd.bar_repetition(jax.nn.one_hot(events, V), jnp.asarray(events),
                               jnp.asarray(lengths), jnp.full(10, steps_per_bar))
    chex.assert_shape(found, (10,))
    expected = [_numpy_bar_repetition(row, n, steps_per_bar) for row, n in zip(events, lengths)]
    np.testing.assert_allclose(np.asarray(found), expected, atol=1e-6)
    assert float(found[0]) > 0.1 and float(found[-1]) == 0.0
    if bars <= melody_mmd.PART_BARS:  # one part: the metric itself
      np.testing.assert_allclose(np.asarray(found), [
          melody_metrics.bar_repetition_rate(row[:n], steps_per_bar)
          for row, n in zip(events, lengths)], atol=1e-6)
  # Meters mixed in one batch, as the training batches are.
  events = np.concatenate([_with_restated_bars(1, 4, 16, 16, 0.5),
                           np.pad(_with_restated_bars(2, 4, 12, 16, 0.5), ((0, 0), (0, 64)))])
  lengths, meters = np.array([256] * 4 + [192] * 4), np.array([16] * 4 + [12] * 4)
  found = mmd.bar_repetition(jax.nn.one_hot(events, V), jnp.asarray(events),
                             jnp.asarray(lengths), jnp.asarray(meters))
  np.testing.assert_allclose(np.asarray(found), [
      _numpy_bar_repetition(row, n, m) for row, n, m in zip(events, lengths, meters)], atol=1e-6)
  # The column style_features adds after the phrases'.
  args = (jax.nn.one_hot(events, V), jnp.asarray(events), jnp.asarray(lengths), jnp.asarray(meters))
  columns = mmd.style_features(*args, with_phrases=True, with_bar_repetition=True)
  chex.assert_shape(columns, (8, melody_mmd.NUM_FEATURES + 2))
  np.testing.assert_allclose(columns[:, -1], found, atol=1e-6)
  np.testing.assert_array_equal(columns[:, :-1], mmd.style_features(*args, with_phrases=True))


def test_the_bar_columns_gradient_restates_a_bar_that_differs_in_one_step():
  """A bar equal to the one before but for one step: the column is 0, and its gradient through
  the rows points at that step, toward the earlier bar's event there."""
  steps_per_bar = 16
  events = _melodies(5, 1, 2 * steps_per_bar)
  events[0, :] = np.where(events[0] == events_lib.HOLD, events_lib.pitch_to_event(60), events[0])
  events[0, steps_per_bar:] = events[0, :steps_per_bar]
  events[0, steps_per_bar + 3] = events_lib.pitch_to_event(77)
  events[0, 3] = events_lib.pitch_to_event(70)
  args = (jnp.asarray(events), jnp.full(1, 2 * steps_per_bar), jnp.full(1, steps_per_bar))
  column, grads = jax.value_and_grad(
      lambda rows: mmd.bar_repetition(rows, *args)[0])(jax.nn.one_hot(events, V))
  assert float(column) == 0.0
  grads = np.asarray(grads[0])
  differing = steps_per_bar + 3
  assert grads[differing, events_lib.pitch_to_event(70)] == pytest.approx(1.0)
  assert grads[3, events_lib.pitch_to_event(77)] == pytest.approx(1.0)
  others = np.delete(grads, [3, differing], axis=0)
  assert np.abs(others).max() == 0.0


def _numpy_gram_repetition(events, length, steps_per_bar, part_bars=melody_mmd.PART_BARS):
  """Plain-numpy reference: metrics/melody.ngram_repetition_rate's rule (repeated runs of 4
  pitches = total - distinct) on each part's notes, pooled."""
  notes = events_lib.events_to_notes(np.asarray(events[:length]))
  parts = {}
  for start, _, pitch in notes:
    parts.setdefault(start // (part_bars * steps_per_bar), []).append(pitch)
  repeats = total = 0
  for pitches in parts.values():
    runs = [tuple(pitches[i:i + 4]) for i in range(len(pitches) - 3)]
    repeats += len(runs) - len(set(runs))
    total += len(runs)
  return repeats / total if total else 0.0


@functools.partial(jax.jit, static_argnames="part_bars")
def _gram_column(events, lengths, meters, part_bars=melody_mmd.PART_BARS):
  from hrnnvae.feature_consistency import note_positions
  onset, _, _ = note_positions(jnp.asarray(events), jnp.asarray(lengths))
  rows = jax.nn.one_hot(events, V)[..., events_lib.FIRST_PITCH_EVENT:] * onset[..., None]
  return mmd.gram_repetition(rows, onset, jnp.asarray(meters), part_bars=part_bars)


def test_gram_repetition_is_the_metric_within_each_part_in_every_meter_and_length():
  from hrnnvae.metrics import melody as melody_metrics
  for steps_per_bar, bars in ((16, 16), (12, 32), (24, 8), (8, 40), (16, 32)):
    events = _with_restated_bars(steps_per_bar + 100, 10, steps_per_bar, bars, restated=0.4)
    steps = events.shape[1]
    lengths = np.minimum(np.array([steps, steps, steps, steps - 5, steps - steps_per_bar - 1,
                                   17 * steps_per_bar, 16 * steps_per_bar, 3 * steps_per_bar,
                                   steps_per_bar, 3]), steps)
    found = _gram_column(events, lengths, np.full(10, steps_per_bar))
    chex.assert_shape(found, (10,))
    expected = [_numpy_gram_repetition(row, n, steps_per_bar) for row, n in zip(events, lengths)]
    np.testing.assert_allclose(np.asarray(found), expected, atol=1e-6)
    assert float(found[0]) > 0.1 and float(found[-1]) == 0.0
    if bars <= melody_mmd.PART_BARS:  # one part: the realism test's own figure
      np.testing.assert_allclose(np.asarray(found), [
          melody_metrics.ngram_repetition_rate(row[:n], 4) for row, n in zip(events, lengths)],
          atol=1e-6)
    whole = _gram_column(events, lengths, np.full(10, steps_per_bar), part_bars=bars)
    np.testing.assert_allclose(np.asarray(whole), [
        melody_metrics.ngram_repetition_rate(row[:n], 4) for row, n in zip(events, lengths)],
        atol=1e-6)
  # Meters mixed in one batch, as the training batches are, and the column style_features adds
  # after the bars' and before the part lift's.
  events = np.concatenate([_with_restated_bars(1, 4, 16, 32, 0.5),
                           np.pad(_with_restated_bars(2, 4, 12, 32, 0.5), ((0, 0), (0, 128)))])
  lengths, meters = np.array([512] * 4 + [384] * 4), np.array([16] * 4 + [12] * 4)
  found = _gram_column(events, lengths, meters)
  np.testing.assert_allclose(np.asarray(found), [
      _numpy_gram_repetition(row, n, m) for row, n, m in zip(events, lengths, meters)], atol=1e-6)
  args = (jax.nn.one_hot(events, V), jnp.asarray(events), jnp.asarray(lengths), jnp.asarray(meters))
  columns = mmd.style_features(*args, with_bar_repetition=True, with_gram_repetition=True,
                               with_part_lift=True)
  chex.assert_shape(columns, (8, melody_mmd.NUM_FEATURES + 3))
  np.testing.assert_allclose(columns[:, -2], found, atol=1e-6)
  np.testing.assert_array_equal(
      columns[:, [*range(melody_mmd.NUM_FEATURES + 1), -1]],
      mmd.style_features(*args, with_bar_repetition=True, with_part_lift=True))


def test_the_gram_columns_gradient_restates_a_run_that_differs_in_one_note():
  """Notes C D E F B C D G F: the last of the six runs of four differs from the first in its
  third note, so the column is 0 and its gradient at that note's row points at E (the earlier
  run's pitch), and at the earlier E's row toward G, each 1/6 (one run of six); no other row
  moves."""
  pitches = [60, 62, 64, 65, 71, 60, 62, 67, 65]
  events = np.full((1, 2 * len(pitches)), events_lib.NOTE_OFF)
  events[0, ::2] = [events_lib.pitch_to_event(p) for p in pitches]
  args = (jnp.asarray(events), jnp.full(1, events.shape[1]), jnp.full(1, 16))
  from hrnnvae.feature_consistency import note_positions
  onset, _, _ = note_positions(*args[:2])

  def column(rows):
    pitch_rows = rows[..., events_lib.FIRST_PITCH_EVENT:] * onset[..., None]
    return mmd.gram_repetition(pitch_rows, onset, args[2])[0]
  value, grads = jax.value_and_grad(column)(jax.nn.one_hot(events, V))
  assert float(value) == 0.0
  grads = np.asarray(grads[0])
  assert grads[14, events_lib.pitch_to_event(64)] == pytest.approx(1 / 6)  # the G, toward E
  assert grads[4, events_lib.pitch_to_event(67)] == pytest.approx(1 / 6)  # the E, toward G
  others = np.delete(grads, [4, 14], axis=0)
  assert np.abs(others).max() == 0.0
  # Restated exactly, the run counts: 1 of the 6 runs repeats.
  events[0, 14] = events_lib.pitch_to_event(64)
  assert float(column(jax.nn.one_hot(events, V))) == pytest.approx(1 / 6)


def test_part_lift_is_the_metric_in_octaves_and_0_under_two_parts():
  from hrnnvae.metrics import melody as melody_metrics
  for steps_per_bar in (16, 12):
    events = _melodies(steps_per_bar, 6, 36 * steps_per_bar)
    events[1, 20 * steps_per_bar:] = np.where(  # a second part an octave up
        events[1, 20 * steps_per_bar:] >= events_lib.FIRST_PITCH_EVENT,
        events[1, 20 * steps_per_bar:] + 12, events[1, 20 * steps_per_bar:])
    lengths = np.array([36, 32, 33, 31, 20, 2]) * steps_per_bar - np.array([0, 0, 3, 0, 0, 1])
    rows = jax.nn.one_hot(events, V)
    features = mmd.style_features(rows, jnp.asarray(events), jnp.asarray(lengths),
                                  jnp.full(6, steps_per_bar), with_part_lift=True)
    chex.assert_shape(features, (6, melody_mmd.NUM_FEATURES + 1))
    expected = [melody_metrics.part_lift(row[:n], steps_per_bar) / 12 for row, n in
                zip(events, lengths)]
    np.testing.assert_allclose(np.asarray(features[:, -1]), np.nan_to_num(expected), atol=1e-5)
    assert float(features[1, -1]) > 0.5 and float(features[3, -1]) == 0.0
  # Its gradient raises the second part's notes and lowers the first's.
  grads = jax.grad(lambda r: mmd.style_features(
      r, jnp.asarray(events), jnp.asarray(lengths), jnp.full(6, 12), with_part_lift=True)[0, -1])(
          rows)
  pitch_grads = np.asarray(grads[0, :, events_lib.FIRST_PITCH_EVENT:])
  struck = events[0] >= events_lib.FIRST_PITCH_EVENT
  late = struck & (np.arange(events.shape[1]) >= 16 * 12) & (np.arange(events.shape[1]) < 32 * 12)
  assert (np.diff(pitch_grads[late], axis=1) > 0).all()
  early = struck & (np.arange(events.shape[1]) < 16 * 12)
  assert (np.diff(pitch_grads[early], axis=1) < 0).all()


def _realism_models(**loss_fields):
  """The Models fields aux_terms.realism_term reads: every realism column off, the batch's own
  windows as the real side, the joint MMD, unless loss_fields say otherwise."""
  loss = dataclasses.replace(LossHParams.from_config(load_config("default.py").loss),
                             **loss_fields)  # every field: a new one needs no edit here
  return types.SimpleNamespace(loss=loss, realism_spans=None, realism_heldout_spans=None)


def _features(events):
  lengths = np.full(len(events), events.shape[1])
  return mmd.style_features(jax.nn.one_hot(events, V), jnp.asarray(events),
                            jnp.asarray(lengths), jnp.full(len(events), 16))


def test_mmd_is_near_zero_between_real_halves_and_large_against_repeated_notes():
  emotion = jnp.asarray(np.arange(12) % 2)
  real_a, real_b = _features(_melodies(1)), _features(_melodies(2))
  repetitive = _features(_melodies(3, repeat_share=0.8))
  same = float(mmd.conditional_mmd(real_a, emotion, real_b, emotion))
  apart = float(mmd.conditional_mmd(repetitive, emotion, real_b, emotion))
  assert abs(same) < 0.25 * apart and apart > 0.05, (same, apart)
  # Only pairs of one quadrant count: asked for quadrants no real melody has, the cross term is
  # zero and what is left is each side's own same-quadrant similarity (a numpy reference).
  def mean_kernel(x, y, ex, ey):
    squared = ((np.asarray(x)[:, None] - np.asarray(y)[None]) ** 2).sum(-1)
    kernel = sum(np.exp(-squared / (2 * w ** 2)) for w in melody_mmd.BANDWIDTHS)
    pairs = (np.asarray(ex)[:, None] == np.asarray(ey)[None]) & ~np.eye(len(x), dtype=bool)
    return (kernel * pairs).sum() / (len(x) * (len(x) - 1))
  disjoint = float(mmd.conditional_mmd(real_a, emotion + 2, real_b, emotion))
  assert disjoint == pytest.approx(mean_kernel(real_a, real_a, emotion + 2, emotion + 2)
                                   + mean_kernel(real_b, real_b, emotion, emotion), rel=1e-5)


def test_the_gradient_through_straight_through_rows_lowers_the_mmd():
  """A repetitive 'generator' given as straight-through rows over logits: the gradient reaches
  the logits, and a small step along the rows' gradient lowers the MMD to real melodies and the
  unison share (the gradient the straight-through sample passes on is this one)."""
  events = _melodies(4, repeat_share=0.8)
  real, emotion = _features(_melodies(5)), jnp.zeros(12, jnp.int32)
  lengths, steps_per_bar = jnp.full(12, events.shape[1]), jnp.full(12, 16)
  hard = jax.nn.one_hot(events, V)

  def mmd_of_rows(rows):
    found = mmd.style_features(rows, jnp.asarray(events), lengths, steps_per_bar)
    return mmd.conditional_mmd(found, emotion, real, emotion), found

  def mmd_of_logits(logits):
    soft = jax.nn.softmax(logits)
    return mmd_of_rows(hard + soft - jax.lax.stop_gradient(soft))[0]

  logit_grads = jax.grad(mmd_of_logits)(2.0 * hard)
  assert np.isfinite(np.asarray(logit_grads)).all() and float(jnp.abs(logit_grads).sum()) > 0
  (before, found), row_grads = jax.value_and_grad(mmd_of_rows, has_aux=True)(hard)
  step = 0.02 / float(jnp.abs(row_grads).max())
  after, moved = mmd_of_rows(hard - step * row_grads)
  assert float(after) < float(before)
  assert float(moved[:, 0].mean()) < float(found[:, 0].mean())  # fewer repeated notes


def test_the_realism_term_is_a_generator_term_that_reads_samples_and_batch():
  config = load_config("tiny.py")
  config.loss.realism_weight = 2.0
  terms = aux_terms.generator_terms(LossHParams.from_config(config.loss))
  assert [(t.name, t.weight) for t in terms][-1] == ("realism", 2.0)
  config.loss.emotion_weight = config.loss.adversarial_weight = 0.0
  assert LossHParams.from_config(config.loss).needs_prior_samples
  events = _melodies(6)
  sample_events = events[:, :32]
  prior = aux_terms.PriorSamples(None, jnp.asarray(np.arange(12) % 4), jnp.asarray(sample_events),
                                 None, jax.nn.one_hot(sample_events, V), jnp.ones((12, 32), bool),
                                 None)
  batch = {"events": jnp.asarray(events), "lengths": jnp.full(12, 48),
           "steps_per_bar": jnp.full(12, 16), "emotion": jnp.asarray(np.arange(12) % 4)}
  models = _realism_models()
  inputs = aux_terms.TermInputs(models, None, batch, None, None, prior, prior.hard_BxTxV)
  value, metrics = _realism_term(inputs)
  # The samples are the batch's own first 32 steps: the real side is cropped to them.
  cropped = _features(sample_events)
  assert float(value) == pytest.approx(float(mmd.conditional_mmd(
      cropped, batch["emotion"], cropped, batch["emotion"])), abs=1e-6)
  assert float(metrics["sample_repeated_notes"]) == pytest.approx(
      float(metrics["real_repeated_notes"]))
  assert "realism_degree_mmd" not in metrics
  # loss.realism_phrases: both sides' features gain the phrases' similarity.
  phrased_events = _phrased(7, bars=8)
  samples = _phrased(8, bars=8, restated=0.9)
  prior = aux_terms.PriorSamples(None, jnp.asarray(np.arange(12) % 4), jnp.asarray(samples),
                                 None, jax.nn.one_hot(samples, V), jnp.ones((12, 128), bool), None)
  batch = {**batch, "events": jnp.asarray(phrased_events), "lengths": jnp.full(12, 128)}
  values = []
  for phrases in (False, True):
    models.loss = dataclasses.replace(models.loss, realism_phrases=phrases)
    value, metrics = _realism_term(aux_terms.TermInputs(models, None, batch, None, None,
                                                                 prior, prior.hard_BxTxV))
    def features(events, phrases=phrases):
      return mmd.style_features(jax.nn.one_hot(events, V), jnp.asarray(events),
                                jnp.full(12, 128), jnp.full(12, 16), with_phrases=phrases)
    assert float(value) == pytest.approx(float(mmd.conditional_mmd(
        features(samples), prior.target_B, features(phrased_events), batch["emotion"])), rel=1e-5)
    values.append(float(value))
    assert ("sample_phrase_similarity" in metrics) == phrases
  assert float(metrics["sample_phrase_similarity"]) > float(metrics["real_phrase_similarity"])
  assert values[1] != pytest.approx(values[0], rel=1e-3)  # the restated phrases count
  # loss.realism_bar_repetition: the bars' column after the phrases', each logged by name.
  models.loss = dataclasses.replace(models.loss, realism_bar_repetition=True)
  value, metrics = _realism_term(aux_terms.TermInputs(models, None, batch, None, None,
                                                               prior, prior.hard_BxTxV))
  def both_columns(events):
    return mmd.style_features(jax.nn.one_hot(events, V), jnp.asarray(events),
                              jnp.full(12, 128), jnp.full(12, 16), with_phrases=True,
                              with_bar_repetition=True)
  assert float(value) == pytest.approx(float(mmd.conditional_mmd(
      both_columns(samples), prior.target_B, both_columns(phrased_events), batch["emotion"])),
      rel=1e-5)
  assert float(metrics["sample_phrase_similarity"]) == pytest.approx(
      float(both_columns(samples)[:, -2].mean()), rel=1e-5)
  assert float(metrics["sample_bar_repetition"]) == pytest.approx(
      float(both_columns(samples)[:, -1].mean()), rel=1e-5)
  assert float(metrics["sample_bar_repetition"]) > float(metrics["real_bar_repetition"])


def test_the_phrase_periods_columns_tell_restated_periods_from_restated_phrases():
  """Melodies that restate each phrase one period (two phrases) later against ones that restate
  each phrase in the next: the periods' columns order odd and even lags oppositely, and the
  realism term's form MMD with them (loss.realism_phrase_periods) sees the two apart, logging
  each column by name."""
  periodic = _phrased(1, bars=32, restated=0.8, apart=2)
  adjacent = _phrased(2, bars=32, restated=0.6)
  lengths, steps_per_bar = jnp.full(12, periodic.shape[1]), jnp.full(12, 16)

  def columns(events):
    return np.asarray(mmd.style_features(jax.nn.one_hot(events, V), jnp.asarray(events), lengths,
                                         steps_per_bar, with_phrase_periods=True)[:, -2:])

  periodic_odd, periodic_even = columns(periodic).mean(0)
  adjacent_odd, adjacent_even = columns(adjacent).mean(0)
  assert periodic_even > periodic_odd + 0.2, (periodic_odd, periodic_even)
  assert adjacent_odd > adjacent_even, (adjacent_odd, adjacent_even)
  prior = aux_terms.PriorSamples(None, jnp.asarray(np.arange(12) % 4), jnp.asarray(adjacent),
                                 None, jax.nn.one_hot(adjacent, V),
                                 jnp.ones(adjacent.shape, bool), None)
  batch = {"events": jnp.asarray(periodic), "lengths": lengths, "steps_per_bar": steps_per_bar,
           "emotion": jnp.asarray(np.arange(12) % 4)}
  found = {}
  for periods in (False, True):
    models = _realism_models(realism_phrases=True, realism_phrase_periods=periods,
                             realism_form_weight=1.0)
    found[periods] = _realism_term(aux_terms.TermInputs(models, None, batch, None, None, prior,
                                                        prior.hard_BxTxV))
  value, metrics = found[True]
  assert float(metrics["sample_phrase_odd_lags"]) == pytest.approx(adjacent_odd, rel=1e-5)
  assert float(metrics["real_phrase_even_lags"]) == pytest.approx(periodic_even, rel=1e-5)
  assert "sample_phrase_odd_lags" not in found[False][1]
  assert float(metrics["realism_form_mmd"]) > float(found[False][1]["realism_form_mmd"])
  assert float(value) > float(found[False][0])


def _dwelling_on_the_tonic(events):
  """The same rhythms with every other note moved to C5: a line that dwells on one pitch."""
  dwelling = events.copy()
  struck = dwelling >= events_lib.FIRST_PITCH_EVENT
  dwelling[struck & (np.cumsum(struck, axis=1) % 2 == 0)] = events_lib.pitch_to_event(72)
  return dwelling


def test_the_degree_mmd_sees_a_tonic_gap_and_adds_to_the_realism_term_at_its_weight():
  emotion = jnp.asarray(np.arange(12) % 2)
  real_a, real_b = _features(_melodies(1)), _features(_melodies(2))
  dwelling = _features(_dwelling_on_the_tonic(_melodies(3)))
  degrees = melody_mmd.DEGREES
  assert degrees.stop == melody_mmd.NUM_FEATURES and degrees.stop - degrees.start == 12
  np.testing.assert_allclose(np.asarray(real_a[:, degrees]).sum(1), 1.0, atol=1e-6)
  same = float(mmd.conditional_mmd(real_a[:, degrees], emotion, real_b[:, degrees], emotion))
  apart = float(mmd.conditional_mmd(dwelling[:, degrees], emotion, real_b[:, degrees],
                                    emotion))
  assert abs(same) < 0.25 * apart, (same, apart)
  # The term: the MMD over every feature plus the weight times the degrees' own.
  events = _melodies(6)
  samples = _dwelling_on_the_tonic(events)
  prior = aux_terms.PriorSamples(None, jnp.asarray(np.arange(12) % 4), jnp.asarray(samples),
                                 None, jax.nn.one_hot(samples, V), jnp.ones((12, 48), bool), None)
  batch = {"events": jnp.asarray(events), "lengths": jnp.full(12, 48),
           "steps_per_bar": jnp.full(12, 16), "emotion": jnp.asarray(np.arange(12) % 4)}
  found = {}
  for weight in (0.0, 2.5):
    for per_quadrant in (False, True):
      models = _realism_models(realism_per_quadrant=per_quadrant, realism_degree_weight=weight)
      inputs = aux_terms.TermInputs(models, None, batch, None, None, prior, prior.hard_BxTxV)
      found[weight, per_quadrant] = _realism_term(inputs)
  sample_features, real_features = _features(samples), _features(events)
  for per_quadrant in (False, True):
    degree_mmd = float(mmd.conditional_mmd(
        sample_features[:, degrees], prior.target_B, real_features[:, degrees], batch["emotion"],
        per_quadrant=per_quadrant))
    plain, _ = found[0.0, per_quadrant]
    weighted, metrics = found[2.5, per_quadrant]
    assert degree_mmd > 0
    assert float(metrics["realism_degree_mmd"]) == pytest.approx(degree_mmd, rel=1e-5)
    assert float(weighted) == pytest.approx(float(plain) + 2.5 * degree_mmd, rel=1e-5)



def test_the_form_mmd_sees_looped_phrases_and_adds_to_the_realism_term_at_its_weight():
  """loss.realism_form_weight: samples that loop their first 4-bar phrase (phrase similarity 1,
  every later bar restated) against melodies that do not: the term is the MMD over every column
  plus the weight times the MMD of the form columns alone (the last ones, phrases then bars),
  computed here from style_features' own columns."""
  events = _melodies(7, steps=128)
  samples = np.tile(events[:, :64], (1, 2))  # the first phrase twice
  options = dict(with_phrases=True, with_bar_repetition=True)
  def features(melodies):
    return mmd.style_features(jax.nn.one_hot(melodies, V), jnp.asarray(melodies),
                              jnp.full(len(melodies), 128), jnp.full(len(melodies), 16),
                              **options)
  sample_features, real_features = features(samples), features(events)
  assert float(sample_features[:, -2].min()) == pytest.approx(1.0)  # phrase similarity
  assert float(real_features[:, -2].max()) < 0.6
  prior = aux_terms.PriorSamples(None, jnp.asarray(np.arange(12) % 4), jnp.asarray(samples),
                                 None, jax.nn.one_hot(samples, V), jnp.ones((12, 128), bool), None)
  batch = {"events": jnp.asarray(events), "lengths": jnp.full(12, 128),
           "steps_per_bar": jnp.full(12, 16), "emotion": jnp.asarray(np.arange(12) % 4)}
  found = {}
  for weight in (0.0, 3.0):
    models = _realism_models(realism_per_quadrant=True, realism_phrases=True,
                             realism_bar_repetition=True, realism_form_weight=weight)
    inputs = aux_terms.TermInputs(models, None, batch, None, None, prior, prior.hard_BxTxV)
    found[weight] = _realism_term(inputs)
  form_mmd = float(mmd.conditional_mmd(sample_features[:, -2:], prior.target_B,
                                       real_features[:, -2:], batch["emotion"],
                                       per_quadrant=True))
  assert form_mmd > 0.1
  (plain, plain_metrics), (weighted, metrics) = found[0.0], found[3.0]
  assert "realism_form_mmd" not in plain_metrics
  assert float(metrics["realism_form_mmd"]) == pytest.approx(form_mmd, rel=1e-5)
  assert float(weighted) == pytest.approx(float(plain) + 3.0 * form_mmd, rel=1e-5)


def _held_melodies(seed, batch=8, steps=96):
  """Melodies of notes lasting 1-20 steps (rests of 1-3 now and then), held by HOLD events."""
  rng = np.random.default_rng(seed)
  events = np.full((batch, steps), events_lib.HOLD, np.int64)
  for row in range(batch):
    t = 0
    while t < steps:
      if rng.random() < 0.15:
        events[row, t] = events_lib.NOTE_OFF
        t += int(rng.integers(1, 4))
      else:
        events[row, t] = events_lib.pitch_to_event(int(rng.integers(55, 80)))
        t += int(rng.integers(1, 21))
  return events


def test_the_long_note_columns_are_the_realism_tests_own_bins_and_split_the_pooled_one():
  """loss.realism_long_notes: the shares of notes lasting 9, ..., 16 and over 16 steps equal the
  realism test's note-length columns (evaluation/realism.melody_features) for melodies in 4/4 and
  6/8, sum to the pooled 9+ column, and sit after the 42 base columns, before the form columns."""
  for steps_per_bar in (16, 12):
    events = _held_melodies(steps_per_bar)
    lengths = np.full(len(events), events.shape[1])
    args = (jax.nn.one_hot(events, V), jnp.asarray(events), jnp.asarray(lengths),
            jnp.full(len(events), steps_per_bar))
    plain = mmd.style_features(*args)
    found = mmd.style_features(*args, with_long_notes=True, with_phrases=True)
    assert found.shape[1] == melody_mmd.NUM_FEATURES + 9 + 1
    np.testing.assert_array_equal(np.asarray(found[:, :melody_mmd.NUM_FEATURES]),
                                  np.asarray(plain))
    long_notes = np.asarray(found[:, melody_mmd.NUM_FEATURES:-1])
    names = [f"note_length/{n} steps" for n in range(9, 17)] + ["note_length/>16 steps"]
    reference = realism.feature_columns(events, steps_per_bar, names)
    np.testing.assert_allclose(long_notes, np.stack([reference[n] for n in names], 1), atol=1e-6)
    assert long_notes.sum() > 0 and long_notes[:, -1].sum() > 0
    pooled = melody_mmd.NUM_FEATURES - 12 - 1  # the last note-length bucket, 9+ steps
    np.testing.assert_allclose(long_notes.sum(1), np.asarray(plain[:, pooled]), atol=1e-6)


def _the_added_column(events, steps_per_bar, column, flag, **base_flags):
  """style_features of whole melodies with `flag` on, beside the same without it (both with
  base_flags and the phrases' column): `flag` adds one column, at `column`, and every other
  column is bit-equal. Returns that column [B] as numpy."""
  args = (jax.nn.one_hot(events, V), jnp.asarray(events), jnp.full(len(events), events.shape[1]),
          jnp.full(len(events), steps_per_bar))
  plain = np.asarray(mmd.style_features(*args, **base_flags, with_phrases=True))
  found = np.asarray(mmd.style_features(*args, **base_flags, **{flag: True},
                                        with_phrases=True))
  assert found.shape[1] == plain.shape[1] + 1
  np.testing.assert_array_equal(found[:, :column], plain[:, :column])
  np.testing.assert_array_equal(found[:, column + 1:], plain[:, column:])
  return found[:, column]


def test_the_register_column_is_the_realism_tests_mean_pitch_and_moves_the_pitches():
  """loss.realism_register: one column, after the long notes and before the form columns, equal
  to the realism test's register/mean pitch (octaves from middle C) in 4/4 and 6/8; the other
  columns bit-equal; its gradient at a struck step rises with the pitch (a higher pitch there
  lifts the mean), and a melody with no note reads 0."""
  for steps_per_bar in (16, 12):
    events = _held_melodies(steps_per_bar)
    register = _the_added_column(events, steps_per_bar, melody_mmd.NUM_FEATURES + 9,
                                 "with_register", with_long_notes=True)
    reference = realism.feature_columns(events, steps_per_bar, ["register/mean pitch"])
    np.testing.assert_allclose(register, reference["register/mean pitch"], atol=1e-5)
    assert np.ptp(reference["register/mean pitch"]) > 0.1  # the melodies sit apart
  events = _held_melodies(16)[:1]
  rows = jax.nn.one_hot(events, V)
  grads = np.asarray(jax.grad(lambda r: mmd.style_features(
      r, jnp.asarray(events), jnp.full(1, events.shape[1]), jnp.full(1, 16),
      with_register=True)[0, -1])(rows))[0]
  struck = int(np.nonzero(events[0] >= events_lib.FIRST_PITCH_EVENT)[0][0])
  assert (np.diff(grads[struck, events_lib.FIRST_PITCH_EVENT:]) > 0).all()
  silent = np.full((1, 32), events_lib.NOTE_OFF)
  assert float(mmd.style_features(jax.nn.one_hot(silent, V), jnp.asarray(silent),
                                  jnp.full(1, 32), jnp.full(1, 16),
                                  with_register=True)[0, -1]) == 0.0


def test_the_rest_column_is_the_realism_tests_rest_share_and_can_ask_for_a_rest():
  """loss.realism_rests: one column, after the mean pitch and before the form columns, equal to
  the realism test's rest_share in 4/4 and 6/8 for melodies with rests after notes, note-offs
  inside rests and silent openings, every other column bit-equal; a cropped length counts only
  its steps; its gradient at the NOTE_OFF of a step after a sounding one is the rest that ending
  the note there would make (the steps to the next onset: at the second note's onset, the rest
  of the melody), 0 at the first step, and nothing at any other event."""
  for steps_per_bar in (16, 12):
    events = _held_melodies(steps_per_bar, batch=16)
    events[0, :5] = [events_lib.HOLD, events_lib.HOLD, events_lib.NOTE_OFF, events_lib.HOLD,
                     events_lib.pitch_to_event(60)]  # silent, a note-off in the silence, a note
    events[1, :7] = [events_lib.pitch_to_event(62), events_lib.HOLD, events_lib.NOTE_OFF,
                     events_lib.HOLD, events_lib.NOTE_OFF, events_lib.HOLD,
                     events_lib.pitch_to_event(64)]  # a second note-off inside a rest
    rests = _the_added_column(events, steps_per_bar, melody_mmd.NUM_FEATURES + 1, "with_rests",
                              with_register=True)
    reference = realism.feature_columns(events, steps_per_bar, ["rest_share/rest share"])
    np.testing.assert_allclose(rests, reference["rest_share/rest share"], atol=1e-6)
    assert (reference["rest_share/rest share"] > 0).sum() >= len(events) // 2  # most rest
  cropped = mmd.style_features(jax.nn.one_hot(events, V), jnp.asarray(events),
                               jnp.full(len(events), 40), jnp.full(len(events), 12),
                               with_rests=True)[:, -1]
  reference = realism.feature_columns(events[:, :40], 12, ["rest_share/rest share"])
  np.testing.assert_allclose(np.asarray(cropped), reference["rest_share/rest share"], atol=1e-6)
  note = events_lib.pitch_to_event(67)
  held = np.array([[note] + [events_lib.HOLD] * 7 + [note] + [events_lib.HOLD] * 7])
  grads = np.asarray(jax.grad(lambda r: mmd.style_features(
      r, jnp.asarray(held), jnp.full(1, 16), jnp.full(1, 16), with_rests=True)[0, -1])(
          jax.nn.one_hot(held, V)))[0]
  np.testing.assert_allclose(grads[:, events_lib.NOTE_OFF] * 16,
                             [0, 7, 6, 5, 4, 3, 2, 1, 8, 7, 6, 5, 4, 3, 2, 1], atol=1e-6)
  assert not np.delete(grads, events_lib.NOTE_OFF, axis=1).any()


def test_per_quadrant_mmd_compares_each_quadrant_whatever_its_share():
  """Samples of each quadrant drawn like its real melodies, but a quadrant that is 10% of the real
  side and half the samples (as tense is in the fine-tune): the per-quadrant MMD is near 0, the
  joint one is not. A numpy reference for a small
  case; a quadrant with a single sample or no real melody does not count."""
  rng = np.random.default_rng(0)
  centres = np.array([[0.0, 0.0], [0.6, 0.6]])
  def draw(counts):
    emotion = np.repeat(np.arange(2), counts)
    return jnp.asarray(centres[emotion] + 0.1 * rng.standard_normal((len(emotion), 2))), \
        jnp.asarray(emotion)
  generated, generated_emotion = draw([200, 200])
  real, real_emotion = draw([360, 40])
  per_quadrant = float(mmd.conditional_mmd(generated, generated_emotion, real, real_emotion,
                                           per_quadrant=True))
  joint = float(mmd.conditional_mmd(generated, generated_emotion, real, real_emotion))
  assert abs(per_quadrant) < 0.01 < abs(joint), (per_quadrant, joint)

  def kernel(x, y):
    squared = ((x[:, None] - y[None]) ** 2).sum(-1)
    return sum(np.exp(-squared / (2 * w ** 2)) for w in melody_mmd.BANDWIDTHS)
  g, ge = rng.standard_normal((7, 3)), np.array([0, 0, 0, 1, 1, 2, 3])
  r, re = rng.standard_normal((6, 3)), np.array([0, 0, 1, 1, 1, 2])
  expected = []
  for q in (0, 1):  # quadrant 2 has one sample, quadrant 3 no real melody
    x, y = g[ge == q], r[re == q]
    n, m = len(x), len(y)
    expected.append((kernel(x, x).sum() - np.trace(kernel(x, x))) / (n * (n - 1))
                    + (kernel(y, y).sum() - np.trace(kernel(y, y))) / (m * (m - 1))
                    - 2 * kernel(x, y).mean())
  found = mmd.conditional_mmd(jnp.asarray(g, jnp.float32), jnp.asarray(ge),
                              jnp.asarray(r, jnp.float32), jnp.asarray(re), per_quadrant=True)
  assert float(found) == pytest.approx(np.mean(expected), rel=1e-4)
