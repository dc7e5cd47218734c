"""Training on real Nottingham windows: learning, ablations, checkpoints, NaN, data parallelism."""

import dataclasses
import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hrnnvae.exports import load_export, write_export
from hrnnvae.models import bars as bars_lib
from hrnnvae.models import nucleus
from hrnnvae.models.hparams import ModelHParams
from hrnnvae.train import aux_terms, input_pipeline, train, warm_start
from hrnnvae.train import step as step_lib
from hrnnvae.train.checkpoints import Checkpoints

from conftest import CONFIGS, load_config


def tiny_config(cache_dir, variant=None, **train_overrides):
  config = load_config("tiny.py", variant)
  config.data.cache_dir = str(cache_dir)
  config.train.update(train_overrides)
  return config


def _models_and_batch(config):
  data = input_pipeline.load(config.data.cache_dir, config.data.max_steps)
  hp = ModelHParams.from_config(config.model, data.num_steps, data.min_steps_per_bar,
                                data.max_steps_per_bar, data.max_bars)
  models = step_lib.Models.from_config(config, hp, data.facts["arousal_thresholds"],
                                       input_pipeline.real_span_arrays(data, config))
  batch = data.splits["train"].take(np.arange(config.train.batch_size))
  return models, data, batch


def _equal_trees(a, b) -> bool:
  return all(jax.tree.leaves(jax.tree.map(lambda x, y: np.array_equal(np.asarray(x), np.asarray(y)),
                                          a, b)))


@pytest.mark.slow
def test_tiny_learns_real_melodies(nottingham_40, tmp_path):
  """400 steps over ~240 real windows: the ELBO phase, then all four losses from step 200,
  validating every 50 steps."""
  config = tiny_config(nottingham_40[0], max_steps=400, max_epochs=1000, patience=1000,
                       eval_every_steps=50)
  config.loss.aux_start_step = 200
  result = train.train_and_evaluate(config, str(tmp_path))
  assert result["step"] == 400 and result["stop_reason"] == "max_steps"
  models, _, batch = _models_and_batch(config)
  sums = jax.device_get(step_lib.eval_step(result["state"], batch, jax.random.key(0), models=models))
  accuracy = sums["correct"] / sums["steps"]
  mask = np.arange(batch["events"].shape[1])[None] < batch["lengths"][:, None]
  majority = np.bincount(batch["events"][mask]).max() / mask.sum()
  assert accuracy > majority + 0.05, (accuracy, majority)
  lines = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
  train_losses = [line["train/reconstruction_loss"] for line in lines
                  if "train/reconstruction_loss" in line]
  assert np.mean(train_losses[-5:]) < 0.75 * np.mean(train_losses[:5])
  valid = [line for line in lines if "valid/loss" in line]
  assert len(valid) == 400 // 50 and all(np.isfinite(line["valid/loss"]) for line in valid)
  fine_tune = [line for line in lines if "train/emotion_term" in line]
  assert fine_tune and min(line["step"] for line in fine_tune) > 200
  assert (tmp_path / "export" / "config.json").is_file() and (tmp_path / "tensorboard").is_dir()


# Two variants in the fast tier (one of each family); every row of the table in the full suite.
# A row in EXECUTED takes one real, compiled train step; the others are traced (jax.eval_shape:
# their parameters' and metrics' shapes without compiling, which is most of a step's cost here).
EXECUTED = ("no_adversarial", "lstm_lm", "no_vae")


@pytest.mark.parametrize("variant", [
    pytest.param(name, marks=() if name in ("no_adversarial", "lstm_lm") else pytest.mark.slow)
    for name in ("", "no_vae", "flat", "no_emotion", "no_adversarial", "dot_attention", "lstm_lm",
                 "musicvae_like", "continuous", "no_position", "paper", "lookback",
                 "classifier_emotion")])
def test_each_ablation_changes_what_it_claims(nottingham_40, variant):
  config = tiny_config(nottingham_40[0], variant, batch_size=8)
  config.data.max_steps = 32
  models, data, batch = _models_and_batch(config)
  init = functools.partial(step_lib.init_state, models, batch_size=8, num_steps=data.num_steps)
  step = functools.partial(step_lib.train_step, models=models)
  executed = variant in EXECUTED
  if executed:
    state = init(jax.random.key(0))
    new_state, metrics = jax.jit(step)(state, batch, jax.random.key(1))
    assert all(np.isfinite(v) for v in jax.device_get(metrics).values())
  else:
    state = jax.eval_shape(init, jax.random.key(0))
    new_state, metrics = jax.eval_shape(step, state, batch, jax.random.key(1))
  vae_params = state.vae_params
  assert ("log_var" in vae_params) == (variant not in ("no_vae", "lstm_lm"))
  assert ("emotion_term" in metrics) == (variant != "no_emotion")
  assert ("adversarial_term" in metrics) == (variant != "no_adversarial")
  if variant in ("lstm_lm", "musicvae_like"):
    assert "lower" in vae_params["step"] and "attention" not in vae_params["step"]
    assert ("encoder" in vae_params) == (variant == "musicvae_like")
    assert ("conductor" in vae_params) == (variant == "musicvae_like")
  else:
    assert ("long_term" in vae_params["encoder"]) == (variant != "flat")
    assert ("conductor" in vae_params["decoder"]) == (variant != "flat")
    bidirectional = variant not in ("flat", "paper")
    assert ("forward" in vae_params["encoder"]["short_term"]["steps"]) == bidirectional
    hp = models.vae.hp
    input_width = vae_params["decoder"]["step"]["short_term"]["input"]["kernel"].shape[0]
    with_positions = variant not in ("no_position", "paper")
    with_lookback = variant == "lookback"
    assert ("lookback" in vae_params["decoder"]["step"]) == with_lookback
    if with_lookback:  # one one-hot block per slot: the sounding pitch, then each bar distance
      assert vae_params["decoder"]["step"]["lookback"]["kernel"].shape[0] == (
          bars_lib.lookback_dim(hp.lookback_bars) * (hp.num_classes + 1))
    assert input_width == (hp.embed_dim * (2 if with_lookback else 1) + hp.decoder_dim
                           + (hp.conductor_dim if hp.hierarchical else 0)
                           + (bars_lib.POSITION_DIM if with_positions else 0))
    assert ("value" in vae_params["decoder"]["step"]["attention"]) == (variant == "dot_attention")
  if variant in ("no_vae", "lstm_lm"):
    assert executed and float(metrics["kl"]) == 0.0
  # The judge's features are the emotion term unless the paper's classifier form is asked for.
  paper_form = variant in ("paper", "classifier_emotion")
  if variant != "no_emotion":
    assert ("prior_judge_accuracy" in metrics) == (not paper_form)
    assert ("prior_emotion_accuracy" in metrics) == paper_form
  # E always learns (its accuracy on prior samples is reported for every row of the table);
  # D learns only when the adversarial term is on.
  if executed:
    assert not _equal_trees(state.emotion_params, new_state.emotion_params)
    assert _equal_trees(state.critic_params, new_state.critic_params) == (
        variant == "no_adversarial")


def test_scheduled_sampling_feeds_the_decoder_its_own_guesses(nottingham_40):
  """mixed_inputs: at rate 0 the true events, at rate 1 the argmax of the first pass; the rate
  ramps from 0; an ELBO step at rate 1 decodes the guesses (another loss and update than at
  rate 0, from the same z), and rate 0 is the plain step."""
  events = jnp.array([[5, 6, 7, 8]], jnp.int32)
  logits = jax.nn.one_hot(jnp.array([[9, 9, 2, 3]]), 90) * 5.0
  key = jax.random.key(0)
  np.testing.assert_array_equal(step_lib.mixed_inputs(events, logits, 0.0, key), events)
  np.testing.assert_array_equal(step_lib.mixed_inputs(events, logits, 1.0, key), [[9, 9, 2, 3]])
  half = np.asarray(step_lib.mixed_inputs(jnp.zeros((64, 64), jnp.int32),
                                          jax.nn.one_hot(jnp.ones((64, 64), jnp.int32), 90), 0.5,
                                          key))
  assert set(np.unique(half)) == {0, 1} and 0.4 < half.mean() < 0.6
  config = tiny_config(nottingham_40[0], "no_emotion,no_adversarial", batch_size=8)
  config.data.max_steps = 32
  config.loss.update(scheduled_sampling_rate=0.5, scheduled_sampling_steps=10)
  loss_hp = step_lib.LossHParams.from_config(config.loss)
  assert [float(step_lib.scheduled_sampling_rate(s, loss_hp)) for s in (0, 5, 10, 50)] == [
      0.0, 0.25, 0.5, 0.5]
  results = {}
  for rate in (0.0, 1.0):
    config.loss.scheduled_sampling_rate = rate
    config.loss.scheduled_sampling_steps = 1  # the full rate from step 1
    models, data, batch = _models_and_batch(config)
    state = step_lib.init_state(models, jax.random.key(0), 8, data.num_steps)
    state = state.replace(step=jnp.asarray(1, state.step.dtype))
    results[rate] = jax.jit(functools.partial(step_lib.train_step, models=models, finetune=False))(
        state, batch, jax.random.key(1))
  plain, mixed = results[0.0], results[1.0]
  assert "scheduled_sampling_rate" not in plain[1] and float(mixed[1]["scheduled_sampling_rate"]) == 1.0
  assert float(plain[1]["kl"]) == pytest.approx(float(mixed[1]["kl"]))  # the same z
  assert float(mixed[1]["reconstruction_loss"]) != pytest.approx(float(plain[1]["reconstruction_loss"]))
  assert np.isfinite(float(mixed[1]["loss"]))
  assert not _equal_trees(plain[0].vae_params, mixed[0].vae_params)


def _steps_with_shifted_classifier(config):
  """(models, state, batch, (state, metrics) of one train step, the new state of the same step
  from a state whose E parameters are all shifted by 1)."""
  models, data, batch = _models_and_batch(config)
  state = step_lib.init_state(models, jax.random.key(0), 8, data.num_steps)
  other = state.replace(emotion_params=jax.tree.map(lambda x: x + 1.0, state.emotion_params))
  step = jax.jit(functools.partial(step_lib.train_step, models=models))
  return models, state, batch, step(state, batch, jax.random.key(1)), step(
      other, batch, jax.random.key(1))[0]


def test_no_emotion_gradient_ignores_the_classifier(nottingham_40):
  """With emotion_weight=0 the generator's update does not depend on E's parameters."""
  config = tiny_config(nottingham_40[0], "no_emotion,no_adversarial", batch_size=8)
  config.data.max_steps = 32
  _, _, _, (one, _), two = _steps_with_shifted_classifier(config)
  assert _equal_trees(one.vae_params, two.vae_params)


def test_checkpoint_and_export_restore_bit_equal(nottingham_40, tmp_path):
  config = tiny_config(nottingham_40[0], batch_size=8)
  config.data.max_steps = 32
  models, data, batch = _models_and_batch(config)
  state = step_lib.init_state(models, jax.random.key(0), 8, data.num_steps)
  state, _ = jax.jit(functools.partial(step_lib.train_step, models=models))(state, batch,
                                                                           jax.random.key(1))
  checkpoints = Checkpoints(tmp_path)
  checkpoints.save_latest(state)
  checkpoints.export(state, config, models.vae.hp, data.facts)
  checkpoints.wait()
  restored = checkpoints.restore_latest(jax.eval_shape(lambda: state))
  checkpoints.close()
  assert _equal_trees(state, restored)
  params, description = load_export(tmp_path / "export")
  assert _equal_trees(params["vae"], state.vae_params)
  assert description["model"]["latent_dim"] == config.model.latent_dim
  assert description["data"]["steps_per_bar"] in (12, 16)


@pytest.mark.slow
def test_nan_stops_training_and_keeps_the_last_good_checkpoint(nottingham_40, tmp_path, monkeypatch):
  real_step = step_lib.train_step

  def poisoned(state, batch, rng, **static):
    state, metrics = real_step(state, batch, rng, **static)
    metrics["loss"] = jnp.where(state.step > 15, jnp.nan, metrics["loss"])
    return state, metrics

  monkeypatch.setattr(step_lib, "train_step", poisoned)
  config = tiny_config(nottingham_40[0], batch_size=8, max_steps=40)
  config.data.max_steps = 32
  with pytest.raises(train.TrainingError, match="became nan at step 20.*step 10"):
    train.train_and_evaluate(config, str(tmp_path))
  checkpoints = Checkpoints(tmp_path)
  assert checkpoints.latest.latest_step() == 10
  checkpoints.close()


def test_kl_weight_follows_the_config(nottingham_40):
  config = tiny_config(nottingham_40[0], batch_size=8)
  config.data.max_steps = 32
  config.loss.kl_warmup_steps = 4
  config.loss.beta_max = 0.5
  models, data, batch = _models_and_batch(config)
  state = step_lib.init_state(models, jax.random.key(0), 8, data.num_steps)
  step = jax.jit(functools.partial(step_lib.train_step, models=models))
  weights = []
  for _ in range(6):
    state, metrics = step(state, batch, jax.random.key(1))
    weights.append(float(metrics["kl_weight"]))
  np.testing.assert_allclose(weights, [0.0, 0.125, 0.25, 0.375, 0.5, 0.5])


def _train_cli(cache_dir, workdir, *overrides):
  return [sys.executable, "-m", "hrnnvae.train.main", f"--config={CONFIGS / 'tiny.py'}",
          f"--config.data.cache_dir={cache_dir}", f"--workdir={workdir}",
          "--config.data.max_steps=32", "--config.train.batch_size=16",
          "--config.train.checkpoint_every_steps=10", "--config.train.max_epochs=100", *overrides]


@pytest.mark.slow
def test_killed_run_resumes_to_the_same_parameters(nottingham_40, tmp_path):
  env = dict(os.environ, PYTHONWARNINGS="ignore")
  steps = "--config.train.max_steps=60"  # about 15 steps an epoch: crosses epoch ends
  subprocess.run(_train_cli(nottingham_40[0], tmp_path / "straight", steps), env=env, check=True,
                 capture_output=True, timeout=600)
  interrupted = tmp_path / "interrupted"
  process = subprocess.Popen(_train_cli(nottingham_40[0], interrupted, steps), env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
  latest = interrupted / "checkpoints" / "latest"
  deadline = time.time() + 600
  while not (latest / "20").is_dir() and time.time() < deadline and process.poll() is None:
    time.sleep(0.02)
  assert process.poll() is None, "the run ended before it could be killed"
  process.send_signal(signal.SIGKILL)
  process.wait()
  killed_at = sorted(int(p.name) for p in latest.iterdir() if p.name.isdigit())
  assert killed_at and killed_at[-1] < 60
  subprocess.run(_train_cli(nottingham_40[0], interrupted, steps), env=env, check=True,
                 capture_output=True, timeout=600)

  def final(workdir):
    checkpoints = Checkpoints(workdir)
    manager = checkpoints.latest
    assert manager.latest_step() == 60
    restored = manager.restore(60)
    checkpoints.close()
    return restored

  assert _equal_trees(final(tmp_path / "straight"), final(interrupted))
  assert (interrupted / "export" / "config.json").is_file()


@pytest.mark.slow
def test_eight_devices_match_one(nottingham_40, tmp_path):
  """Six data-parallel steps (across an epoch's end) on 8 CPU devices give one device's
  parameters. The windows are the 40 tunes' 4/4 ones, in one bar bucket: one train and one eval
  program a run, not three (bucketing itself: test_bar_buckets_merge_small_meters...)."""
  cache = tmp_path / "cache"
  cache.mkdir()
  arrays = dict(np.load(nottingham_40[0] / "examples.npz"))
  four_four = arrays["steps_per_bar"] == 16
  np.savez(cache / "examples.npz", **{name: values if name == "piece_names" else values[four_four]
                                      for name, values in arrays.items()})
  shutil.copy(nottingham_40[0] / "manifest.json", cache)
  script = f"""
import json, runpy, jax, numpy as np
from hrnnvae.train import train
assert jax.device_count() == 8, jax.devices()
def run(devices, workdir):
  config = runpy.run_path({str(CONFIGS / 'tiny.py')!r})["get_config"]()
  config.data.cache_dir = {str(cache)!r}
  config.train.update(batch_size=16, max_steps=6, bucket_by_bar=True, fit_latent_prior=False)
  return train.train_and_evaluate(config, workdir, devices=devices)["state"]
eight = run(jax.devices(), {str(tmp_path / 'eight')!r})
one = run(jax.devices()[:1], {str(tmp_path / 'one')!r})
assert len(eight.vae_params["mu"]["kernel"].sharding.device_set) == 8
assert int(eight.step) == int(one.step) == 6
differences = jax.tree.leaves(jax.tree.map(lambda a, b: float(np.abs(np.asarray(a) - np.asarray(b)).max()),
                                           (eight.vae_params, eight.critic_params, eight.emotion_params),
                                           (one.vae_params, one.critic_params, one.emotion_params)))
print(json.dumps(max(differences)))
"""
  env = dict(os.environ, PYTHONWARNINGS="ignore",
             XLA_FLAGS=f"{os.environ.get('XLA_FLAGS', '')} --xla_force_host_platform_device_count=8",
             JAX_PLATFORMS="cpu")
  result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True,
                          timeout=600)
  assert result.returncode == 0, result.stderr[-3000:]
  assert float(result.stdout.strip().splitlines()[-1]) < 1e-4


def test_missing_cache_is_one_clear_line(tmp_path):
  result = subprocess.run(_train_cli(tmp_path / "nothing", tmp_path / "run"), capture_output=True,
                          text=True, env=dict(os.environ, PYTHONWARNINGS="ignore"), timeout=300)
  assert result.returncode == 2
  assert "hrnnvae-train: no prepared data" in result.stderr
  assert "hrnnvae-data prepare" in result.stderr


def test_bar_buckets_merge_small_meters_and_cover_every_window():
  steps_per_bar = np.array([8] * 5 + [12] * 100 + [16] * 90 + [18] * 3 + [24] * 20)
  split = input_pipeline.Split(np.zeros((len(steps_per_bar), 384), np.int32),
                               16 * steps_per_bar.astype(np.int32), steps_per_bar.astype(np.int32),
                               np.zeros(len(steps_per_bar), np.int32))
  buckets = input_pipeline.bar_buckets(split, batch_size=16)
  assert buckets == [12, 16, 24]  # 8 joins 12; 18 joins 24, which keeps its own bucket
  plan = input_pipeline.epoch_plan(split, 16, seed=0, epoch=0, buckets=buckets)
  assert len(plan) == 100 // 16 + 90 // 16 + 23 // 16
  for rows, width in plan:
    assert len(rows) == 16 and (split.steps_per_bar[rows] <= width).all()
  again = input_pipeline.epoch_plan(split, 16, seed=0, epoch=0, buckets=buckets)
  assert all((a == b).all() and w == v for (a, w), (b, v) in zip(plan, again))
  batches = list(input_pipeline.bucketed_batches(split, 16, 0, 0, buckets, max_bars=16, start=3))
  assert len(batches) == len(plan) - 3
  assert all(batch["events"].shape == (16, 16 * width) for batch, width in batches)


def test_the_fits_batch_as_training_did_in_bar_buckets_or_one(nottingham_40):
  """input_pipeline.train_buckets: training, the post-training fits (bar and transfer adapters)
  and the benchmarks batch the training split in its bar buckets (config.train.bucket_by_bar),
  else in one bucket as wide as the data's widest bar: every batch then has one shape (one
  compiled step)."""
  data = input_pipeline.load(str(nottingham_40[0]))
  train = data.splits["train"]
  assert len(np.unique(train.steps_per_bar)) > 1  # the real tunes have several meters
  assert (input_pipeline.train_buckets(data, 16, True)
          == input_pipeline.bar_buckets(train, 16))
  assert input_pipeline.train_buckets(data, 16, False) == [data.max_steps_per_bar]
  for bucket_by_bar in (True, False):
    buckets = input_pipeline.train_buckets(data, 16, bucket_by_bar)
    batches = input_pipeline.endless_batches(train, 16, 0, data.max_bars, buckets)
    widths = {width for _, width in (next(batches) for _ in range(3 * len(train) // 16))}
    assert widths == set(buckets)  # past an epoch: every bucket, and no other width


def test_batches_carry_where_each_window_starts_in_its_tune(nottingham_40):
  """The cache's start_bar reaches every batch (model.tune_bar_positions reads it)."""
  data = input_pipeline.load(str(nottingham_40[0]))
  train = data.splits["train"]
  rows = np.arange(min(len(train), 16))
  batch = train.take(rows)
  train_rows = np.nonzero(data.arrays["split"] == 0)[0][rows]
  np.testing.assert_array_equal(batch["start_bar"], data.arrays["start_bar"][train_rows])
  assert batch["start_bar"].dtype == np.int32 and batch["start_bar"].max() > 0


def test_learning_rate_warms_up_then_decays():
  import ml_collections
  train_config = ml_collections.ConfigDict(dict(learning_rate=1e-3, warmup_steps=10,
                                                lr_decay_rate=0.9, min_learning_rate=1e-4,
                                                batch_size=64, lr_reference_batch=64,
                                                lr_batch_scaling="sqrt"))
  schedule = step_lib.learning_rate_schedule(train_config)
  np.testing.assert_allclose([float(schedule(s)) for s in (0, 5, 10, 11, 1000)],
                             [1e-4, 5.5e-4, 1e-3, 9e-4, 1e-4], rtol=1e-5)


def test_feature_emotion_term_cannot_read_the_classifier(nottingham_40):
  """With the judge's features as the emotion term, the generator's update does not depend on
  E's parameters at all (E cannot be fooled, it is not asked), but it does depend on the term."""
  config = tiny_config(nottingham_40[0], "no_adversarial", batch_size=8)
  config.data.max_steps = 32
  config.loss.aux_start_step = 0
  models, state, batch, (one, metrics), two = _steps_with_shifted_classifier(config)
  assert models.loss.emotion_term == "features" and models.loss.aux_latents == "posterior"
  assert _equal_trees(one.vae_params, two.vae_params)
  assert 0.0 <= float(metrics["prior_judge_accuracy"]) <= 1.0
  assert float(metrics["emotion_term"]) > 0.0
  config.loss.emotion_weight = 0.0
  no_term, _, _ = _models_and_batch(config)
  three, _ = jax.jit(functools.partial(step_lib.train_step, models=no_term))(state, batch,
                                                                              jax.random.key(1))
  assert not _equal_trees(one.vae_params, three.vae_params)


def _one_fine_tune_step(nottingham_40, variant, **loss_fields):
  """(state, metrics) after one fine-tune train step of the tiny model (batch 8, 32 steps) from
  a fixed initial state, with config.loss fields set as given."""
  config = tiny_config(nottingham_40[0], variant, batch_size=8)
  config.data.max_steps = 32
  config.loss.aux_start_step = 0
  for field, value in loss_fields.items():
    config.loss[field] = value
  models, data, batch = _models_and_batch(config)
  state = step_lib.init_state(models, jax.random.key(0), 8, data.num_steps)
  return jax.jit(functools.partial(step_lib.train_step, models=models))(
      state, batch, jax.random.key(1))


@pytest.mark.slow
def test_the_realism_term_moves_the_generator_in_a_train_step(nottingham_40):
  """loss.realism_weight: the train step adds the realism term (melody_mmd.py) on its prior
  samples against the batch, reports it, and the generator's update changes with it; alone (no
  emotion or adversarial term) it still draws prior samples."""
  def one_step(weight):
    return _one_fine_tune_step(nottingham_40, "no_adversarial,no_emotion", realism_weight=weight)

  (with_term, metrics), (without, plain) = one_step(5.0), one_step(0.0)
  assert np.isfinite(float(metrics["realism_term"])) and "realism_term" not in plain
  assert 0.0 <= float(metrics["sample_repeated_notes"]) <= 1.0
  assert 0.0 <= float(metrics["real_repeated_notes"]) <= 1.0
  assert not _equal_trees(with_term.vae_params, without.vae_params)
  # loss.realism_phrases reaches the term (melody_mmd.phrase_similarity's own tests check the
  # column; these 32-step windows hold one 4-bar phrase at most, so it reads 0 on both sides).
  _, phrased = _one_fine_tune_step(nottingham_40, "no_adversarial,no_emotion", realism_weight=5.0,
                                   realism_phrases=True)
  assert float(phrased["sample_phrase_similarity"]) == float(phrased["real_phrase_similarity"]) == 0
  assert "sample_phrase_similarity" not in metrics


@pytest.mark.slow
def test_a_fine_tune_step_compares_long_samples_with_whole_real_spans(nottingham_40):
  """loss.realism_real_bars: 8-bar samples past the 2-bar windows against the training split's
  8-bar spans (joined windows) of the batch's meter, with the phrases', bars' and part columns:
  the real side's phrase similarity is read on spans of two phrases (0 on the windows). With
  loss.realism_heldout the step also logs the MMDs against the validation split's spans."""
  state, metrics = _one_fine_tune_step(
      nottingham_40, "no_adversarial,no_emotion", realism_weight=5.0, realism_phrases=True,
      realism_bar_repetition=True, realism_bar_part_bars=8, realism_part_lift=True,
      realism_gram_repetition=True, realism_per_quadrant=True, realism_real_bars=8, aux_latents="standard",
      prior_sample_bars=8, prior_samples_beyond_window=True, realism_form_weight=1.0,
      realism_heldout=True)
  assert np.isfinite(float(metrics["realism_term"]))
  for name in ("realism_mmd", "realism_heldout_mmd", "realism_form_mmd", "realism_heldout_form_mmd"):
    assert np.isfinite(float(metrics[name])), name
  assert float(metrics["realism_heldout_mmd"]) != float(metrics["realism_mmd"])
  assert float(metrics["real_phrase_similarity"]) > 0.0
  assert float(metrics["sample_phrase_similarity"]) > 0.0
  assert 0.0 < float(metrics["real_bar_repetition"]) < 1.0
  assert 0.0 < float(metrics["real_gram_repetition"]) < 1.0
  assert all(np.isfinite(leaf).all() for leaf in jax.tree.leaves(state.vae_params))


@pytest.mark.slow
def test_a_fine_tune_step_reads_samples_longer_than_its_window(nottingham_40):
  """Every term (emotion, adversarial, realism with the phrases' column) on 8-bar prior samples
  past the 2-bar windows (loss.prior_samples_beyond_window), drawn at a 1-bar reach: the critic
  scores real windows against the longer samples, and the phrases' similarity, 0 on the
  windows, is read on the samples' two 4-bar phrases."""
  state, metrics = _one_fine_tune_step(
      nottingham_40, None, realism_weight=5.0, realism_phrases=True, aux_latents="standard",
      prior_sample_bars=8, prior_samples_beyond_window=True, prior_sample_attention_bars=1)
  for name in ("loss", "critic_loss", "realism_term", "emotion_term", "adversarial_term"):
    assert np.isfinite(float(metrics[name])), name
  assert float(metrics["real_phrase_similarity"]) == 0.0
  assert float(metrics["sample_phrase_similarity"]) > 0.0
  assert all(np.isfinite(leaf).all() for leaf in jax.tree.leaves(state.vae_params))


@pytest.mark.slow
def test_a_density_cap_changes_the_emotion_term_not_the_judges_verdict(nottingham_40):
  """loss.arousal_density_cap: an untrained model's samples strike a note nearly every step
  (density far above the cap), so the capped term is another term and another update; the
  reported judge agreement is the judge's own, uncapped, on the same samples."""
  def one_step(cap):
    return _one_fine_tune_step(nottingham_40, "no_adversarial", arousal_density_cap=cap)

  (capped, capped_metrics), (plain, plain_metrics) = one_step(1.0), one_step(0.0)
  assert float(capped_metrics["emotion_term"]) != float(plain_metrics["emotion_term"])
  assert float(capped_metrics["prior_judge_accuracy"]) == float(plain_metrics["prior_judge_accuracy"])
  assert not _equal_trees(capped.vae_params, plain.vae_params)


@pytest.mark.slow
def test_classifier_also_learns_the_judges_labels_of_the_fine_tune_samples(nottingham_40):
  """loss.classifier_on_samples: E's update also reads the step's prior samples (labelled by the
  judge), the generator's update is untouched by it, and the paper's classifier term ignores it."""
  def one_step(variant, on_samples):
    return _one_fine_tune_step(nottingham_40, variant, classifier_on_samples=on_samples)[0]

  with_samples, without = one_step("no_adversarial", True), one_step("no_adversarial", False)
  assert _equal_trees(with_samples.vae_params, without.vae_params)
  assert not _equal_trees(with_samples.emotion_params, without.emotion_params)
  paper_term = [one_step("no_adversarial,classifier_emotion", flag) for flag in (True, False)]
  assert _equal_trees(paper_term[0].emotion_params, paper_term[1].emotion_params)


@pytest.mark.slow
def test_fine_tune_targets_are_uniform_or_the_batchs_own(nottingham_40):
  """loss.aux_target_emotions: 'batch' asks each sample for its window's own emotion, which is
  a different update from uniform random targets; an unknown value is refused."""
  def one_step(targets):
    return _one_fine_tune_step(nottingham_40, "no_adversarial", aux_target_emotions=targets)

  (uniform, _), (own, _) = one_step("uniform"), one_step("batch")
  assert not _equal_trees(uniform.vae_params, own.vae_params)
  with pytest.raises(ValueError, match="aux_target_emotions"):
    one_step("balanced")


@pytest.mark.slow
def test_fine_tune_can_export_its_last_validated_state(nottingham_40, tmp_path):
  """train.finetune_export='last': the export follows every fine-tune validation (the ELBO's
  validation loss would keep an earlier state), and it is the final state."""
  config = tiny_config(nottingham_40[0], batch_size=8, max_steps=30, eval_every_steps=10,
                       finetune_export="last", patience=1000)
  config.data.max_steps = 32
  config.loss.aux_start_step = 10
  result = train.train_and_evaluate(config, str(tmp_path))
  params, description = load_export(tmp_path / "export")
  assert description["step"] == 30 == result["step"]
  assert _equal_trees(params["vae"], result["state"].vae_params)
  assert description["sampling"] == {"temperature": 0.7, "top_p": 0.95, "emotion_guidance": 1.0,
                                     "repeat_penalty": 1.0, "short_note_penalty": 1.0,
                                     "transfer_shift": 0.0, "transfer_keep": 0.0,
                                     "transfer_guidance": 1.0, "transfer_edits": 0.0,
                                     "candidates": 1,
                                     "attention_bars": 0, "section_bars": 0,
                                     "section_correlation": 0.0, "section_repeats": 1,
                                     "guidance_happy": 0.0, "guidance_tense": 0.0,
                                     "guidance_sad": 0.0, "guidance_calm": 0.0}
  config.train.finetune_export = "latest"
  with pytest.raises(train.TrainingError, match="finetune_export"):
    train.train_and_evaluate(config, str(tmp_path / "refused"))
  assert not (tmp_path / "refused").exists()


def test_features_term_needs_the_thresholds(nottingham_40):
  config = tiny_config(nottingham_40[0])
  data = input_pipeline.load(config.data.cache_dir, config.data.max_steps)
  hp = ModelHParams.from_config(config.model, data.num_steps, data.min_steps_per_bar,
                                data.max_steps_per_bar, data.max_bars)
  with pytest.raises(ValueError, match="arousal thresholds"):
    step_lib.Models.from_config(config, hp)
  config.loss.emotion_term = "judge"
  with pytest.raises(ValueError, match="emotion_term"):
    step_lib.Models.from_config(config, hp, data.facts["arousal_thresholds"])


def test_fine_tune_phase_clips_the_auxiliary_gradient_on_its_own(nottingham_40):
  """ELBO phase: no prior samples, no auxiliary terms. Fine-tune phase: the auxiliary gradient
  is clipped to loss.aux_grad_clip_norm before it joins the (separately clipped) ELBO gradient."""
  config = tiny_config(nottingham_40[0], batch_size=8)
  config.data.max_steps = 32
  config.loss.aux_grad_clip_norm = 1e-6
  config.train.grad_clip_norm = 1e6
  models, data, batch = _models_and_batch(config)
  state = step_lib.init_state(models, jax.random.key(0), 8, data.num_steps)
  elbo_only = jax.jit(functools.partial(step_lib.train_step, models=models, finetune=False))
  fine_tune = jax.jit(functools.partial(step_lib.train_step, models=models, finetune=True))
  one, metrics = elbo_only(state, batch, jax.random.key(1))
  assert "emotion_term" not in metrics and "adversarial_term" not in metrics
  assert _equal_trees(state.critic_params, one.critic_params)
  two, metrics = fine_tune(state, batch, jax.random.key(1))
  # The auxiliary gradient was larger than its clip, and after clipping it moves the summed
  # gradient by at most the clip (the ELBO gradient, under a huge clip, is used as it is).
  assert float(metrics["aux_grad_norm"]) > 1e-5
  assert abs(float(metrics["vae_grad_norm"]) - float(metrics["elbo_grad_norm"])) <= 2e-6
  assert not _equal_trees(state.critic_params, two.critic_params)


def test_two_backward_passes_give_the_joint_pullbacks_update(nottingham_40):
  """With the auxiliary gradient clipped on its own and no term reading the reconstruction, the
  step takes the ELBO's and the terms' gradients from two backward passes, each through its own
  loss; a term that reads the reconstruction sends it through the joint pullback instead. Both
  give the same update and metrics (to float rounding), and the split really is taken."""
  config = tiny_config(nottingham_40[0], batch_size=8)
  config.data.max_steps = 32
  config.loss.aux_start_step = 0
  config.loss.realism_weight = 5.0
  config.loss.aux_grad_clip_norm = 0.01  # the auxiliary gradient is clipped: a norm to compare
  models, data, batch = _models_and_batch(config)
  assert models.loss.emotion_term == "features" and models.generator_terms
  assert not any(term.reads_reconstruction for term in models.generator_terms)
  joint = dataclasses.replace(models, generator_terms=tuple(
      dataclasses.replace(term, reads_reconstruction=True) for term in models.generator_terms))
  state = step_lib.init_state(models, jax.random.key(0), 8, data.num_steps)
  split_state, split_metrics = jax.jit(functools.partial(step_lib.train_step, models=models))(
      state, batch, jax.random.key(1))
  state = step_lib.init_state(models, jax.random.key(0), 8, data.num_steps)
  joint_state, joint_metrics = jax.jit(functools.partial(step_lib.train_step, models=joint))(
      state, batch, jax.random.key(1))
  assert set(split_metrics) == set(joint_metrics)
  for name in joint_metrics:
    np.testing.assert_allclose(split_metrics[name], joint_metrics[name], rtol=1e-4, atol=1e-6,
                               err_msg=name)
  assert float(split_metrics["aux_grad_norm"]) > 0.01  # clipped: the clip is in the update
  jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6),
               split_state.vae_params, joint_state.vae_params)
  jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6),
               split_state.critic_params, joint_state.critic_params)
  # The split is taken: the joint pullback runs every decoder's backward scan twice.
  def scans(step_models):
    return str(jax.make_jaxpr(functools.partial(step_lib.train_step, models=step_models))(
        state, batch, jax.random.key(1))).count("scan[")
  assert scans(models) < scans(joint)
  # The paper's classifier term reads the reconstruction: it takes the joint pullback.
  assert aux_terms.generator_terms(dataclasses.replace(
      models.loss, emotion_term="classifier"))[0].reads_reconstruction


def test_output_bias_starts_at_the_class_prior(nottingham_40):
  config = tiny_config(nottingham_40[0], batch_size=8)
  config.data.max_steps = 32
  models, data, _ = _models_and_batch(config)
  prior = train.class_log_prior(data.splits["train"], models.vae.hp.num_classes)
  np.testing.assert_allclose(np.exp(prior).sum(), 1.0, rtol=1e-5)
  state = step_lib.init_state(models, jax.random.key(0), 8, data.num_steps, prior)
  np.testing.assert_array_equal(state.vae_params["decoder"]["step"]["output"]["bias"], prior)


def test_learning_rate_follows_the_batch_rule():
  import ml_collections
  train = ml_collections.ConfigDict({"learning_rate": 1e-3, "lr_reference_batch": 64,
                                     "batch_size": 256, "lr_batch_scaling": "sqrt",
                                     "warmup_steps": 0, "lr_decay_rate": 1.0,
                                     "min_learning_rate": 1e-5})
  assert step_lib.peak_learning_rate(train) == pytest.approx(2e-3)  # sqrt(256 / 64) = 2
  assert float(step_lib.learning_rate_schedule(train)(10)) == pytest.approx(2e-3)
  train.lr_batch_scaling = "linear"
  assert step_lib.peak_learning_rate(train) == pytest.approx(4e-3)
  train.update(lr_batch_scaling="sqrt", batch_size=64)
  assert step_lib.peak_learning_rate(train) == pytest.approx(1e-3)  # the reference batch
  train.lr_batch_scaling = "cubic"
  with pytest.raises(ValueError, match="lr_batch_scaling"):
    step_lib.peak_learning_rate(train)


def test_fine_tune_samples_are_drawn_at_the_configured_temperature_and_nucleus(nottingham_40):
  """loss.aux_sample_temperature / aux_sample_top_p: the fine-tune's samples are the Gumbel-max
  of the tempered nucleus of their own logits (as the sampler draws for users), and the
  straight-through gradient reaches only the nucleus's events, scaled by 1 / T; at 1.0 and 1.0
  the logits pass unchanged."""
  config = tiny_config(nottingham_40[0], "no_adversarial", batch_size=8)
  config.data.max_steps = 32
  config.loss.update(aux_start_step=0, aux_sample_temperature=0.7, aux_sample_top_p=0.9)
  models, data, batch = _models_and_batch(config)
  state = step_lib.init_state(models, jax.random.key(0), 8, data.num_steps)
  mask = jnp.arange(data.num_steps)[None] < batch["lengths"][:, None]
  target = jnp.arange(8) % 4

  prior = aux_terms.draw_prior_samples(models, state.vae_params, batch, mask, target,
                                       jax.random.key(2), jax.random.key(3), None)
  logits, _ = models.vae.apply({"params": state.vae_params}, prior.z_BxZ, prior.target_B,
                               prior.events_BxT, batch["steps_per_bar"], None, method="decode")
  drawn_from = nucleus.nucleus_logits(logits, 0.7, 0.9)
  np.testing.assert_array_equal(jnp.argmax(drawn_from + prior.gumbel_BxTxV, -1), prior.events_BxT)
  assert jnp.isinf(drawn_from).any()  # the nucleus truncates
  np.testing.assert_allclose(aux_terms.sampled_logits(models.loss, logits), drawn_from, rtol=1e-6)
  gradient = jax.grad(lambda x: aux_terms.sampled_logits(models.loss, x)[jnp.isfinite(
      drawn_from)].sum())(logits)
  np.testing.assert_allclose(gradient, jnp.where(jnp.isfinite(drawn_from), 1 / 0.7, 0.0), rtol=1e-6)

  config.loss.update(aux_sample_temperature=1.0, aux_sample_top_p=1.0)
  np.testing.assert_array_equal(
      aux_terms.sampled_logits(step_lib.LossHParams.from_config(config.loss), logits), logits)
  config.loss.aux_sample_top_p = 1.5
  with pytest.raises(ValueError, match="aux_sample_top_p"):
    step_lib.LossHParams.from_config(config.loss)


def test_fine_tune_samples_can_be_longer_than_the_window_at_the_samplers_reach(nottingham_40):
  """loss.prior_samples_beyond_window: the fine-tune's samples hold loss.prior_sample_bars whole
  bars of each melody's meter past the 2-bar window (without it they stop at the window);
  loss.prior_sample_attention_bars: they are drawn, and re-scored, by the same parameters
  attending over that many bars (the sampler's reach), whose logits differ from the model's
  own reach past the first bar."""
  config = tiny_config(nottingham_40[0], "no_adversarial", batch_size=8)
  config.data.max_steps = 32
  config.loss.update(aux_start_step=0, prior_sample_bars=4)
  models, data, batch = _models_and_batch(config)
  assert models.sample_vae is models.vae
  state = step_lib.init_state(models, jax.random.key(0), 8, data.num_steps)
  mask = jnp.arange(data.num_steps)[None] < batch["lengths"][:, None]
  target = jnp.arange(8) % 4
  draw = lambda models: aux_terms.draw_prior_samples(
      models, state.vae_params, batch, mask, target, jax.random.key(2), jax.random.key(3), None)
  assert draw(models).events_BxT.shape == (8, data.num_steps)

  config.loss.update(prior_samples_beyond_window=True, prior_sample_attention_bars=1)
  models, _, _ = _models_and_batch(config)
  assert models.sample_vae.hp.attention_window == models.vae.hp.max_steps_per_bar
  prior = draw(models)
  bar_steps = models.vae.hp.max_steps_per_bar
  assert prior.events_BxT.shape == (8, 4 * bar_steps)
  np.testing.assert_array_equal(prior.mask_BxT.sum(1), 4 * batch["steps_per_bar"])
  assert (np.asarray(prior.mask_BxT.sum(1)) > data.num_steps).any()
  decode = lambda vae: vae.apply({"params": state.vae_params}, prior.z_BxZ, prior.target_B,
                                 prior.events_BxT, batch["steps_per_bar"], None,
                                 method="decode")[0]
  at_reach, own_reach = decode(models.sample_vae), decode(models.vae)
  np.testing.assert_array_equal(jnp.argmax(at_reach + prior.gumbel_BxTxV, -1), prior.events_BxT)
  np.testing.assert_allclose(at_reach[:, :bar_steps], own_reach[:, :bar_steps], atol=1e-5)
  assert np.abs(np.asarray(at_reach - own_reach)[:, 2 * bar_steps:]).max() > 1e-3
  samples = aux_terms.straight_through(models, state.vae_params, batch, prior)
  np.testing.assert_array_equal(jnp.argmax(samples, -1), prior.events_BxT)

  config.loss.prior_sample_attention_bars = -1
  with pytest.raises(ValueError, match="prior_sample_attention_bars"):
    step_lib.LossHParams.from_config(config.loss)


def test_a_warm_start_takes_every_shared_parameter_and_keeps_the_rest_fresh(nottingham_40, tmp_path):
  """train.init_from: a copy-mixture model started from a learned-prior model's export takes
  all of its parameters but the one the other lacks (the copies' variance)."""
  trained_config, config = tiny_config(nottingham_40[0], "bar_prior"), tiny_config(
      nottingham_40[0], "bar_copy_prior")
  trained_models, data, _ = _models_and_batch(trained_config)
  trained = step_lib.init_state(trained_models, jax.random.key(0), 4, data.num_steps)
  write_export(tmp_path / "export", {"vae": trained.vae_params, "emotion": trained.emotion_params},
               {"model": {}})
  models, _, _ = _models_and_batch(config)
  fresh = step_lib.init_state(models, jax.random.key(1), 4, data.num_steps)
  warmed = warm_start.warm_start(fresh, models, str(tmp_path))
  assert _equal_trees(warmed.emotion_params, trained.emotion_params)
  copy_log_var = warmed.vae_params["bar_prior"].pop("copy_log_var")
  np.testing.assert_array_equal(copy_log_var, fresh.vae_params["bar_prior"]["copy_log_var"])
  assert _equal_trees(warmed.vae_params, trained.vae_params)
  assert not _equal_trees(fresh.vae_params["decoder"], trained.vae_params["decoder"])
  with pytest.raises(warm_start.WarmStartError, match="not a readable export"):
    warm_start.warm_start(fresh, models, str(tmp_path / "nowhere"))


@pytest.mark.slow
def test_bar_latent_dropout_trains_z_alone_on_some_windows_and_pays_their_bars_no_kl(nottingham_40):
  """model.bar_latent_dropout: in the ELBO a dropped window's bar latents are zero and cost no
  KL, a kept window's latent and KL are those of the same step without dropout; a fine-tune step
  with it runs."""
  def elbo(dropout):
    config = tiny_config(nottingham_40[0], "bar_latents", batch_size=8)
    config.data.max_steps = 32
    config.model.bar_latent_dropout = dropout
    models, data, batch = _models_and_batch(config)
    state = step_lib.init_state(models, jax.random.key(0), 8, data.num_steps)
    mask = batch["lengths"][:, None] > jnp.arange(batch["events"].shape[1])[None]
    _, out, metrics = step_lib.elbo_terms(models, state.vae_params, batch, mask, jax.random.key(3),
                                          None, 1.0)
    return models.vae.hp, out, metrics

  (hp, with_dropout, dropped_metrics), (_, plain, plain_metrics) = elbo(0.5), elbo(0.0)
  bars = np.asarray(with_dropout["z"][:, hp.latent_dim:])
  dropped = ~bars.any(-1)
  assert dropped.any() and not dropped.all()
  np.testing.assert_array_equal(with_dropout["z"][~dropped], plain["z"][~dropped])
  np.testing.assert_array_equal(with_dropout["z"][:, :hp.latent_dim], plain["z"][:, :hp.latent_dim])
  np.testing.assert_allclose(np.asarray(with_dropout["kl"])[~dropped], np.asarray(plain["kl"])[~dropped],
                             rtol=1e-5)
  assert float(dropped_metrics["kl"]) < float(plain_metrics["kl"])
  _, metrics = _one_fine_tune_step(nottingham_40, "bar_dropout,no_adversarial")
  assert all(np.isfinite(v) for v in jax.device_get(metrics).values())
