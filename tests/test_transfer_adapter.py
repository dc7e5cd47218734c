"""Emotion transfer's adapter (hrnnvae/transfer_adapter.py): its pieces against plain references.
The whole fit, on real tunes, is tests/test_post_training.py's."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hrnnvae import feature_consistency, transfer_adapter


def _vae_params():
  return {"encoder": {"kernel": np.ones(2)},
          "decoder": {"context": {"kernel": np.zeros(3)},
                      "step": {"output": {"kernel": np.ones(4)},
                               "adapter_state": {"kernel": np.full(2, 1.0)},
                               "adapter_bar": {"kernel": np.full(2, 2.0)},
                               "adapter_out": {"kernel": np.full(2, 3.0)}}}}


def test_the_adapter_swaps_the_bar_adapters_leaves_and_nothing_else():
  params = _vae_params()
  adapter = transfer_adapter.bar_adapter_of(params)
  assert sorted(adapter) == ["adapter_bar", "adapter_out", "adapter_state"]
  other = jax.tree.map(lambda leaf: leaf + 10.0, adapter)
  swapped = transfer_adapter.with_adapter(params, other)
  assert transfer_adapter.bar_adapter_of(swapped) == other
  assert transfer_adapter.bar_adapter_of(params)["adapter_out"]["kernel"][0] == 3.0  # untouched
  for path in (("encoder",), ("decoder", "context"), ("decoder", "step", "output")):
    node_swapped, node = swapped, params
    for key in path:
      node_swapped, node = node_swapped[key], node[key]
    assert node_swapped is node
  del params["decoder"]["step"]["adapter_out"], params["decoder"]["step"]["adapter_bar"]
  del params["decoder"]["step"]["adapter_state"]
  with pytest.raises(ValueError, match="bar adapter"):
    transfer_adapter.bar_adapter_of(params)


def test_the_requested_emotion_is_always_another_and_every_other_is_asked():
  own = jnp.asarray(np.repeat(np.arange(4), 500))
  requested = np.asarray(transfer_adapter.requested_emotions(own, jax.random.key(0)))
  assert (requested != np.asarray(own)).all()
  for quadrant in range(4):
    asked = requested[np.asarray(own) == quadrant]
    assert sorted(set(asked.tolist())) == sorted({0, 1, 2, 3} - {quadrant})


def test_the_emotion_terms_hinge_is_its_numpy_reference_and_zero_inside_the_margin():
  valence = np.array([0.2, -0.01, 0.0, -0.3], np.float32)
  arousal = np.array([0.5, 0.1, -1.0, -0.05], np.float32)
  target = np.array([0, 1, 2, 3])
  found = {"valence": jnp.asarray(valence), "arousal": jnp.asarray(arousal)}
  got = float(transfer_adapter.weighted_emotion_term(found, jnp.asarray(target), 1.0, 1.0))
  v = feature_consistency.VALENCE_SIGN[target] * valence / feature_consistency.VALENCE_SCALE
  a = feature_consistency.AROUSAL_SIGN[target] * arousal / feature_consistency.AROUSAL_SCALE
  expected = (np.maximum(1.0 - v, 0) + np.maximum(1.0 - a, 0)).mean()
  np.testing.assert_allclose(got, expected, rtol=1e-6)
  # happy, well inside: 0.2 / 0.05 = 4 and 0.5 / 0.25 = 2 scales past both thresholds
  inside = {"valence": jnp.asarray([0.2]), "arousal": jnp.asarray([0.5])}
  assert float(transfer_adapter.weighted_emotion_term(inside, jnp.asarray([0]), 1.0, 1.0)) == 0.0
  assert float(feature_consistency.consistency_loss(inside, jnp.asarray([0]))) > 0.0


def test_the_mode_weighted_emotion_term_weighs_the_mode_changing_pairs_valence_only():
  own = jnp.asarray([0, 0, 1, 3, 2])  # happy, happy, tense, calm, sad
  requested = jnp.asarray([2, 3, 0, 1, 1])  # sad (mode), calm, happy (mode), tense (mode), tense
  weights = np.asarray(transfer_adapter.mode_change_weights(own, requested, 2.0))
  np.testing.assert_array_equal(weights, [3.0, 1.0, 3.0, 3.0, 1.0])
  valence = np.array([0.2, -0.01, 0.0, -0.3, 0.04], np.float32)
  arousal = np.array([0.5, 0.1, -1.0, -0.05, 0.3], np.float32)
  found = {"valence": jnp.asarray(valence), "arousal": jnp.asarray(arousal)}
  target = np.asarray(requested)
  v = feature_consistency.VALENCE_SIGN[target] * valence / feature_consistency.VALENCE_SCALE
  a = feature_consistency.AROUSAL_SIGN[target] * arousal / feature_consistency.AROUSAL_SCALE
  got = float(transfer_adapter.weighted_emotion_term(found, requested, jnp.asarray(weights)))
  np.testing.assert_allclose(got, (weights * np.logaddexp(0, -v) + np.logaddexp(0, -a)).mean(),
                             rtol=1e-6)
  ones = jnp.ones(5)  # at weights 1: the fine-tune's softplus term and the scalar-weight hinge
  np.testing.assert_allclose(
      float(transfer_adapter.weighted_emotion_term(found, requested, ones)),
      float(feature_consistency.consistency_loss(found, requested)), rtol=1e-6)
  np.testing.assert_allclose(
      float(transfer_adapter.weighted_emotion_term(found, requested, ones, 1.0)),
      float(transfer_adapter.weighted_emotion_term(found, requested, 1.0, 1.0)), rtol=1e-6)


def test_a_tune_reading_adapter_starts_as_the_adapter_it_extends():
  adapter = {"adapter_state": {"kernel": np.ones((4, 3)), "bias": np.zeros(3)},
             "adapter_bar": {"kernel": np.ones((2, 3), np.float32)},
             "adapter_out": {"kernel": np.ones((3, 90))}}
  assert transfer_adapter.tune_steps_of(adapter) == 0
  assert transfer_adapter.with_tune_reading(adapter, 0) is adapter
  reading = transfer_adapter.with_tune_reading(adapter, 2)
  assert transfer_adapter.tune_steps_of(reading) == 2
  kernel = np.asarray(reading["adapter_tune"]["kernel"])
  assert kernel.shape == (2 * 90, 3) and not kernel.any()  # zero: it decodes as before
  assert {k: v for k, v in reading.items() if k != "adapter_tune"} == adapter
  assert transfer_adapter.with_tune_reading(reading, 2) is reading  # a fit goes on from it
  with pytest.raises(ValueError, match="reads 2"):
    transfer_adapter.with_tune_reading(reading, 1)
