"""The differentiable judge: on real one-hot melodies it equals the labeller, and its term moves
a melody towards the quadrant asked for."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax

from hrnnvae import feature_consistency as fc
from hrnnvae.data import emotion as emotion_lib
from hrnnvae.data import events as events_lib

from conftest import OPTIMIZED


def _real_windows(nottingham, count=256):
  _, arrays, manifest = nottingham
  rows = np.nonzero(arrays["split"] == 0)[0][:count]
  thresholds = emotion_lib.ArousalThresholds(**manifest["arousal_thresholds"])
  return (arrays["events"][rows].astype(np.int32), arrays["lengths"][rows].astype(np.int32),
          arrays["steps_per_bar"][rows].astype(np.int32), thresholds)


def test_margins_on_one_hot_real_tunes_equal_the_labeller(nottingham_40):
  events, lengths, steps_per_bar, thresholds = _real_windows(nottingham_40)
  expected = emotion_lib.melody_features(events, lengths, steps_per_bar)
  found = jax.jit(lambda rows, events, lengths, spb: fc.margins(rows, events, lengths, spb, thresholds))(
      jax.nn.one_hot(events, events_lib.NUM_CLASSES), events, lengths, steps_per_bar)
  chex.assert_shape([found["valence"], found["arousal"]], (len(events),))
  np.testing.assert_allclose(found["note_density"], expected.note_density, rtol=1e-5)
  np.testing.assert_allclose(found["mean_abs_interval"], expected.mean_abs_interval, rtol=1e-5)
  np.testing.assert_array_equal(np.asarray(found["valence"]) > 0, expected.is_major)
  labels = emotion_lib.emotion_labels(expected, thresholds)
  np.testing.assert_array_equal(fc.labels(found), labels)
  assert len(set(labels.tolist())) == 4  # every quadrant occurs, so the check covers them all


def test_term_gradient_moves_melodies_towards_the_target_quadrant(nottingham_40):
  """Adam on free logits under the straight-through term (as the decoder's outputs get it): every
  melody's mode flips to the target's, and onset density moves the target's way in both arousal
  halves. (Free logits can also game arousal by octave leaps; in the model the ELBO and the
  critic hold the notes to the data.)"""
  events, lengths, steps_per_bar, thresholds = _real_windows(nottingham_40, 64)
  labels = emotion_lib.emotion_labels(
      emotion_lib.melody_features(events, lengths, steps_per_bar), thresholds)
  target = (labels + 2) % 4  # the opposite quadrant: both valence and arousal must change
  logits = 10.0 * jax.nn.one_hot(events, events_lib.NUM_CLASSES)

  def loss(logits, key):
    soft = jax.nn.softmax(logits + jax.random.gumbel(key, logits.shape))
    hard_events = jnp.argmax(soft, -1)
    rows = jax.nn.one_hot(hard_events, soft.shape[-1]) + soft - jax.lax.stop_gradient(soft)
    found = fc.margins(rows, hard_events, lengths, steps_per_bar, thresholds)
    return fc.consistency_loss(found, jnp.asarray(target)), found

  step = jax.jit(jax.value_and_grad(loss, has_aux=True), compiler_options=OPTIMIZED)
  tx = optax.adam(0.3)
  opt_state = tx.init(logits)
  start = fc.margins(jax.nn.one_hot(events, events_lib.NUM_CLASSES), events, lengths,
                     steps_per_bar, thresholds)
  for i in range(100):
    (_, found), grads = step(logits, jax.random.key(i))
    updates, opt_state = tx.update(grads, opt_state)
    logits = optax.apply_updates(logits, updates)
  major = np.asarray(found["valence"]) > 0
  np.testing.assert_array_equal(major, fc.VALENCE_SIGN[target] > 0)
  density_change = np.asarray(found["note_density"]) - np.asarray(start["note_density"])
  low = fc.AROUSAL_SIGN[target] < 0
  assert low.any() and (~low).any()
  assert density_change[low].mean() < -0.2 and density_change[~low].mean() > 0.5, density_change


def test_a_melody_without_notes_has_a_finite_gradient():
  """Silence (holds only) has constant pitch-class weights: the margins and their gradient stay
  finite (a NaN here once stopped tiny training runs)."""
  events = jnp.zeros((2, 32), jnp.int32).at[1, ::4].set(40)
  thresholds = emotion_lib.ArousalThresholds(5.0, 2.0)
  lengths, steps_per_bar = jnp.array([32, 32]), jnp.array([16, 16])

  def loss(rows):
    return fc.consistency_loss(fc.margins(rows, events, lengths, steps_per_bar, thresholds),
                               jnp.array([2, 0]))

  grads = jax.grad(loss)(jax.nn.one_hot(events, events_lib.NUM_CLASSES))
  chex.assert_tree_all_finite(grads)


def test_a_density_cap_stops_density_earning_arousal():
  """A bar of sixteenths a semitone apart (density 4 times the median, intervals half of it):
  uncapped, its arousal score is 4 + 0.5 and scaling its onsets up raises it; capped at 1.5, the
  score is 1.5 + 0.5 and more onsets earn nothing. A sparse melody under the cap is unchanged."""
  thresholds = emotion_lib.ArousalThresholds(median_note_density=4.0, median_mean_abs_interval=2.0)
  first = events_lib.pitch_to_event(60)
  dense = jnp.asarray([[first + (step % 2) for step in range(16)]], jnp.int32)
  sparse = jnp.asarray([[first, 0, 0, 0, 0, 0, 0, 0, first + 2] + [0] * 7], jnp.int32)
  one_bar = jnp.array([16], jnp.int32)

  def arousal(scale, events, cap):
    rows = jax.nn.one_hot(events, events_lib.NUM_CLASSES)
    rows = rows.at[..., events_lib.FIRST_PITCH_EVENT:].multiply(scale)  # the onsets' weight
    return fc.margins(rows, events, one_bar, one_bar, thresholds, density_cap=cap)["arousal"][0]

  value, slope = jax.value_and_grad(arousal)(1.0, dense, 0.0)
  np.testing.assert_allclose([value, slope], [4.0 + 0.5 - 2.0, 4.0], rtol=1e-5)
  value, slope = jax.value_and_grad(arousal)(1.0, dense, 1.5)
  np.testing.assert_allclose([value, slope], [1.5 + 0.5 - 2.0, 0.0], atol=1e-6)
  np.testing.assert_allclose(arousal(1.0, sparse, 1.5), arousal(1.0, sparse, 0.0), rtol=1e-6)
  np.testing.assert_allclose(arousal(1.0, sparse, 0.0), 0.5 + 1.0 - 2.0, rtol=1e-5)
