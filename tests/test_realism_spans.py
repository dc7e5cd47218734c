"""The realism term's real side as whole spans of real tunes (hrnnvae/train/realism_spans.py)."""

import dataclasses
import functools
import json
import types

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hrnnvae import judge, melody_mmd
from hrnnvae.data import events as events_lib
from hrnnvae.evaluation import realism
from hrnnvae.train import aux_terms, input_pipeline, realism_spans
from hrnnvae.train.step import LossHParams

from conftest import load_config

V = events_lib.NUM_CLASSES


def _loss_hp(**fields):
  """The default config's loss settings (every field, so a new one needs no edit here) with the
  spans arm's form columns on, and `fields` over them."""
  values = dict(realism_phrases=True, realism_bar_repetition=True, realism_bar_part_bars=32,
                realism_part_lift=True, realism_real_bars=32, realism_gram_repetition=True,
                realism_per_quadrant=True)
  return dataclasses.replace(LossHParams.from_config(load_config("default.py").loss),
                             **{**values, **fields})


def test_real_spans_are_the_training_splits_whole_spans_in_every_meter(nottingham_40):
  cache_dir = nottingham_40[0]
  arrays = input_pipeline.load(str(cache_dir)).arrays
  manifest = json.loads((cache_dir / "manifest.json").read_text())
  thresholds = judge.thresholds_of(manifest)
  spans = realism_spans.real_spans(arrays, thresholds, _loss_hp())
  start = 0
  meters = [int(m) for m in np.unique(arrays["steps_per_bar"])]
  for steps_per_bar in meters:
    expected = realism.real_tunes(arrays, 32, steps_per_bar, thresholds, split="train")
    count = len(expected.events)
    found = slice(start, start + count)
    np.testing.assert_array_equal(np.asarray(spans.emotion[found]), expected.quadrants)
    assert (np.asarray(spans.steps_per_bar[found]) == steps_per_bar).all()
    if count:
      own = melody_mmd.compiled_style_features(
          jax.nn.one_hot(expected.events, V), jnp.asarray(expected.events),
          jnp.full(count, expected.events.shape[1]), jnp.full(count, steps_per_bar),
          **realism_spans.feature_options(_loss_hp()))
      np.testing.assert_allclose(np.asarray(spans.features[found]), np.asarray(own), atol=1e-5)
    start += count
  assert start == len(spans.features) > 20
  # Real 32-bar spans hold eight phrases and two parts: their form columns are read.
  assert float(spans.features[:, -3].mean()) > 0.3  # phrase similarity
  assert float(jnp.abs(spans.features[:, -1]).max()) > 0  # part lift
  # A batch of one meter counts only that meter's spans.
  view = realism_spans.batch_view(spans, jnp.full(4, meters[0]))
  in_meter = np.asarray(spans.steps_per_bar) == meters[0]
  np.testing.assert_array_equal(np.asarray(view)[in_meter], np.asarray(spans.emotion)[in_meter])
  assert (np.asarray(view)[~in_meter] == -1).all()
  with pytest.raises(ValueError, match="no span of 4000 bars"):
    realism_spans.real_spans(arrays, thresholds, _loss_hp(realism_real_bars=4000))


def test_spans_read_in_chunks_have_the_features_of_spans_read_at_once(nottingham_40, monkeypatch):
  """real_spans reads each meter's spans CHUNK at a time, the last chunk padded to CHUNK rows
  (one program a meter): the padding's rows are dropped and every span keeps its features."""
  arrays = input_pipeline.load(str(nottingham_40[0])).arrays
  thresholds = judge.thresholds_of(json.loads((nottingham_40[0] / "manifest.json").read_text()))
  loss_hp = _loss_hp(realism_real_bars=8)
  whole = realism_spans.real_spans(arrays, thresholds, loss_hp)
  monkeypatch.setattr(realism_spans, "CHUNK", 7)
  chunked = realism_spans.real_spans(arrays, thresholds, loss_hp)
  assert len(whole.features) % 7  # a last chunk that needs padding
  np.testing.assert_allclose(np.asarray(chunked.features), np.asarray(whole.features), atol=1e-5)
  np.testing.assert_array_equal(np.asarray(chunked.emotion), np.asarray(whole.emotion))


def test_the_realism_term_reads_the_spans_of_the_batchs_meter():
  """With models.realism_spans the term is the per-quadrant MMD of the samples against the spans
  whose meter is the batch's; spans of another meter change nothing."""
  rng = np.random.default_rng(0)
  samples = rng.integers(0, V, (8, 64))
  features_of = lambda events, meter: melody_mmd.compiled_style_features(  # noqa: E731
      jax.nn.one_hot(events, V), jnp.asarray(events), jnp.full(len(events), 64),
      jnp.full(len(events), meter), **realism_spans.feature_options(_loss_hp()))
  in_meter, other = rng.integers(0, V, (12, 64)), rng.integers(0, V, (6, 64))
  spans = realism_spans.RealSpans(
      jnp.concatenate([features_of(in_meter, 16), features_of(other, 12)]),
      jnp.asarray(np.r_[np.arange(12) % 4, np.arange(6) % 4], jnp.int32),
      jnp.asarray([16] * 12 + [12] * 6, jnp.int32))
  prior = aux_terms.PriorSamples(None, jnp.asarray(np.arange(8) % 4), jnp.asarray(samples), None,
                                 jax.nn.one_hot(samples, V), jnp.ones((8, 64), bool), None)
  batch = {"events": jnp.zeros((8, 32), jnp.int32), "lengths": jnp.full(8, 32),
           "steps_per_bar": jnp.full(8, 16), "emotion": jnp.zeros(8, jnp.int32)}
  @jax.jit
  def term(spans):
    models = types.SimpleNamespace(loss=_loss_hp(), realism_spans=spans, realism_heldout_spans=None)
    return aux_terms.realism_term(aux_terms.TermInputs(models, None, batch, None, None, prior,
                                                       prior.hard_BxTxV))
  value, metrics = term(spans)
  conditional_mmd = jax.jit(melody_mmd.conditional_mmd, static_argnames="per_quadrant")
  expected = conditional_mmd(features_of(samples, 16), prior.target_B, features_of(in_meter, 16),
                             jnp.asarray(np.arange(12) % 4), per_quadrant=True)
  assert float(value) == pytest.approx(float(expected), rel=1e-5)
  only_meter = realism_spans.RealSpans(spans.features[:12], spans.emotion[:12],
                                       spans.steps_per_bar[:12])
  assert float(term(only_meter)[0]) == pytest.approx(float(value), rel=1e-6)
  assert float(metrics["real_phrase_similarity"]) == pytest.approx(
      float(features_of(in_meter, 16)[:, -3].mean()), rel=1e-5)


def test_the_held_out_spans_are_logged_against_and_never_change_the_term():
  """loss.realism_heldout: the term's MMD (and its form columns' own) of the same samples against
  the held-out spans, logged beside the training spans' (realism_mmd, realism_form_mmd); the
  term's value is the same with it and without (it is logged, never added). Samples drawn like
  the held-out spans sit nearer them than the training spans, which were drawn otherwise."""
  rng = np.random.default_rng(1)
  loss_hp = _loss_hp(realism_form_weight=2.0, realism_heldout=True)
  features_of = lambda events: melody_mmd.compiled_style_features(  # noqa: E731
      jax.nn.one_hot(events, V), jnp.asarray(events), jnp.full(len(events), 256),
      jnp.full(len(events), 16), **realism_spans.feature_options(loss_hp))

  def melodies(count, pitches):  # 16 bars, a pitch from `pitches` each beat, held for the beat
    onsets = rng.choice(pitches, (count, 64))
    events = np.full((count, 64, 4), events_lib.HOLD)
    events[:, :, 0] = onsets
    return events.reshape(count, 256)

  stepwise = events_lib.FIRST_PITCH_EVENT + np.array([40, 42, 44, 45])
  leaping = events_lib.FIRST_PITCH_EVENT + np.array([28, 40, 47, 52, 59])
  quadrants = lambda count: jnp.asarray(np.arange(count) % 4, jnp.int32)  # noqa: E731
  # Eight melodies a side: one compiled style_features for all three.
  train_side = realism_spans.RealSpans(features_of(melodies(8, leaping)), quadrants(8),
                                       jnp.full(8, 16, jnp.int32))
  heldout_side = realism_spans.RealSpans(features_of(melodies(8, stepwise)), quadrants(8),
                                         jnp.full(8, 16, jnp.int32))
  samples = melodies(8, stepwise)
  batch = {"events": jnp.zeros((8, 32), jnp.int32), "lengths": jnp.full(8, 32),
           "steps_per_bar": jnp.full(8, 16), "emotion": jnp.zeros(8, jnp.int32)}

  @jax.jit  # compiled whole: op by op it compiles hundreds of small programs
  def term(samples_BxTxV, heldout):
    prior = aux_terms.PriorSamples(None, quadrants(8), jnp.asarray(samples), None,
                                   samples_BxTxV, jnp.ones((8, 256), bool), None)
    models = types.SimpleNamespace(loss=loss_hp, realism_spans=train_side,
                                   realism_heldout_spans=heldout)
    return aux_terms.realism_term(aux_terms.TermInputs(models, None, batch, None, None, prior,
                                                       samples_BxTxV))

  one_hot = jax.nn.one_hot(samples, V)
  (value, metrics), (plain, plain_metrics) = term(one_hot, heldout_side), term(one_hot, None)
  assert float(value) == float(plain)
  assert "realism_heldout_mmd" not in plain_metrics
  mmd = functools.partial(melody_mmd.conditional_mmd, per_quadrant=True)
  generated = features_of(samples)
  np.testing.assert_allclose(float(metrics["realism_heldout_mmd"]), float(mmd(
      generated, quadrants(8), heldout_side.features, heldout_side.emotion)), rtol=1e-5)
  np.testing.assert_allclose(float(metrics["realism_mmd"]), float(mmd(
      generated, quadrants(8), train_side.features, train_side.emotion)), rtol=1e-5)
  form = slice(generated.shape[1] - 4, generated.shape[1])  # phrases, bars, 4-grams, part lift
  np.testing.assert_allclose(float(metrics["realism_heldout_form_mmd"]), float(mmd(
      generated[:, form], quadrants(8), heldout_side.features[:, form], heldout_side.emotion)),
      rtol=1e-5, atol=1e-7)
  assert float(metrics["realism_heldout_mmd"]) < float(metrics["realism_mmd"])


def test_held_out_spans_are_the_validation_splits(nottingham_40):
  """real_spans(split="valid") holds the validation split's spans, none of the training split's."""
  cache_dir = nottingham_40[0]
  arrays = input_pipeline.load(str(cache_dir)).arrays
  thresholds = judge.thresholds_of(json.loads((cache_dir / "manifest.json").read_text()))
  loss_hp = _loss_hp(realism_real_bars=8)
  heldout = realism_spans.real_spans(arrays, thresholds, loss_hp, split="valid")
  start = 0
  for steps_per_bar in np.unique(arrays["steps_per_bar"]):
    expected = realism.real_tunes(arrays, 8, int(steps_per_bar), thresholds, split="valid")
    np.testing.assert_array_equal(
        np.asarray(heldout.emotion[start:start + len(expected.events)]), expected.quadrants)
    start += len(expected.events)
  assert start == len(heldout.features) > 0
  training = realism_spans.real_spans(arrays, thresholds, loss_hp)
  assert len(training.features) != len(heldout.features)
  with pytest.raises(ValueError, match="validation split has no span of 4000 bars.*realism_heldout"):
    realism_spans.real_spans(arrays, thresholds, _loss_hp(realism_real_bars=4000), split="valid")


def test_whole_spans_need_the_per_quadrant_mmd_and_a_part_of_a_bar_or_more():
  config = load_config("tiny.py")
  config.loss.realism_real_bars = 32
  config.loss.realism_per_quadrant = False
  with pytest.raises(ValueError, match="realism_per_quadrant"):
    LossHParams.from_config(config.loss)
  config.loss.realism_per_quadrant = True
  assert LossHParams.from_config(config.loss).realism_real_bars == 32
  config.loss.realism_bar_part_bars = 0
  with pytest.raises(ValueError, match="realism_bar_part_bars"):
    LossHParams.from_config(config.loss)
  config.loss.realism_bar_part_bars = 32
  config.loss.realism_form_weight = 1.0  # the form columns' own MMD, with no form column on
  with pytest.raises(ValueError, match="realism_form_weight"):
    LossHParams.from_config(config.loss)
  config.loss.realism_phrases = True
  assert LossHParams.from_config(config.loss).realism_form_weight == 1.0
  config.loss.realism_heldout = True  # with the real spans: logged against the validation spans
  assert LossHParams.from_config(config.loss).realism_heldout
  config.loss.realism_real_bars = 0  # the batch's own windows have no held-out side
  with pytest.raises(ValueError, match="realism_heldout.*realism_real_bars"):
    LossHParams.from_config(config.loss)


def test_the_spans_are_joined_from_whole_windows_where_training_crops_them(nottingham_40):
  """train.py and the benchmark read the real spans through input_pipeline.real_span_arrays:
  with data.max_steps cropping the training windows, the spans still read whole windows (a span
  joined from cropped windows would have holes); otherwise the loaded arrays, not a second read."""
  config = load_config("tiny.py")
  config.data.cache_dir = str(nottingham_40[0])
  config.data.max_steps = 32
  cropped = input_pipeline.load(config.data.cache_dir, config.data.max_steps)
  whole = input_pipeline.load(config.data.cache_dir)
  assert cropped.arrays["events"].shape[1] == 32 < whole.arrays["events"].shape[1]
  config.loss.realism_real_bars = 8
  np.testing.assert_array_equal(input_pipeline.real_span_arrays(cropped, config)["events"],
                                whole.arrays["events"])
  config.loss.realism_real_bars = 0
  assert input_pipeline.real_span_arrays(cropped, config) is cropped.arrays
  config.loss.realism_real_bars, config.data.max_steps = 8, 0
  assert input_pipeline.real_span_arrays(whole, config) is whole.arrays
