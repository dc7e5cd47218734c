"""train_and_evaluate: epochs of jitted steps, validation, early stopping, checkpoints, export.

Data parallel: one `jit` over a 1-D device mesh ('data'): the batch is split across devices,
the state is replicated, and XLA all-reduces the gradients. The same code runs on one device or
many (and across hosts after `jax.distributed.initialize`).
"""

from __future__ import annotations

import collections
import functools
import math
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import tqdm
from absl import logging
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from hrnnvae.data import emotion as emotion_lib
from hrnnvae.models.hparams import ModelHParams
from hrnnvae.train import input_pipeline
from hrnnvae.train import step as step_lib
from hrnnvae.train.checkpoints import Checkpoints
from hrnnvae.train.metrics_writer import MetricsWriter


class TrainingError(RuntimeError):
  """Training cannot go on (bad data shape, NaN loss); the message says what to do."""


def _global_batch(batch: input_pipeline.Batch, sharding: NamedSharding):
  """This process's rows of the (identical on every host) global batch, as global arrays."""
  count, index = jax.process_count(), jax.process_index()
  rows = len(batch["events"]) // count
  return {name: jax.make_array_from_process_local_data(sharding, values[index * rows:(index + 1) * rows])
          for name, values in batch.items()}


def _check_finite(metrics: dict, step: int, checkpoints: Checkpoints) -> None:
  if not all(math.isfinite(float(metrics[name])) for name in ("loss", "vae_param_norm")):
    good = checkpoints.latest.latest_step()
    raise TrainingError(
        f"the loss became {float(metrics['loss'])} at step {step}: training stopped. The last good "
        f"checkpoint (step {good}) is intact; lower train.learning_rate or loss.adversarial_weight "
        "and resume with the same --workdir")


def evaluate(state, split: input_pipeline.Split, eval_fn, prior_fn, batch_size: int,
             sharding: NamedSharding, rng: jax.Array) -> dict:
  """Validation metrics: per-step losses and accuracy, per-melody KL and ELBO, E on prior samples."""
  totals = collections.Counter()
  batch_rng, prior_rng = jax.random.split(rng)
  for index, batch in enumerate(input_pipeline.eval_batches(split, batch_size)):
    sums = jax.device_get(eval_fn(state, _global_batch(batch, sharding),
                                     jax.random.fold_in(batch_rng, index)))
    totals.update({k: float(v) for k, v in sums.items()})
  steps, melodies = max(totals["steps"], 1.0), max(totals["melodies"], 1.0)
  prior_accuracy = np.asarray(jax.device_get(prior_fn(state, prior_rng)))
  metrics = {
      "loss": (totals["nll"] + totals["kl"]) / steps,  # negative ELBO per step: early stopping
      "reconstruction_loss": totals["nll"] / steps,
      "accuracy": totals["correct"] / steps,
      "kl": totals["kl"] / melodies,
      "elbo": -(totals["nll"] + totals["kl"]) / melodies,
      "prior_emotion_accuracy": float(prior_accuracy.mean()),
  }
  for name, accuracy in zip(emotion_lib.EMOTIONS, prior_accuracy):
    metrics[f"prior_emotion_accuracy_{name}"] = float(accuracy)
  return metrics


def train_and_evaluate(config, workdir: str, devices=None) -> dict:
  """Trains until early stopping, max_epochs or max_steps; resumes from workdir if it can."""
  workdir = pathlib.Path(workdir)
  workdir.mkdir(parents=True, exist_ok=True)
  logging.info("config:\n%s", config)
  data = input_pipeline.load(config.data.cache_dir, config.data.max_steps)
  hp = ModelHParams.from_config(config.model, data.num_steps, data.min_steps_per_bar,
                                data.max_steps_per_bar)
  models = step_lib.Models.from_config(config, hp)
  batch_size, train_split = config.train.batch_size, data.splits["train"]
  devices = devices if devices is not None else jax.devices()
  if batch_size % len(devices):
    raise TrainingError(f"train.batch_size={batch_size} must divide over {len(devices)} devices")
  steps_per_epoch = input_pipeline.steps_per_epoch(train_split, batch_size)
  if not steps_per_epoch or not len(data.splits["valid"]):
    raise TrainingError(f"{config.data.cache_dir} has {len(train_split)} training and "
                        f"{len(data.splits['valid'])} validation windows: too few for batch "
                        f"{batch_size}; prepare more data or lower train.batch_size")

  mesh = Mesh(np.array(devices), ("data",))
  data_sharding, replicated = NamedSharding(mesh, P("data")), NamedSharding(mesh, P())
  init_rng, train_rng, eval_rng = jax.random.split(jax.random.key(config.seed), 3)
  make_state = functools.partial(step_lib.init_state, models, init_rng, batch_size, data.num_steps)
  checkpoints = Checkpoints(workdir)
  state = checkpoints.restore_latest(jax.eval_shape(make_state))
  if state is None:
    state = make_state()
  else:
    logging.info("resuming from step %d", int(state.step))
  state = jax.device_put(state, replicated)

  train_step = jax.jit(functools.partial(step_lib.train_step, models=models),
                       in_shardings=(replicated, data_sharding, replicated),
                       out_shardings=(replicated, replicated), donate_argnums=0)
  eval_fn = jax.jit(functools.partial(step_lib.eval_step, models=models),
                    in_shardings=(replicated, data_sharding, replicated), out_shardings=replicated)
  prior_fn = jax.jit(functools.partial(
      step_lib.prior_emotion_accuracy, steps_per_bar=data.facts["steps_per_bar"], models=models,
      per_emotion=config.train.eval_prior_samples, num_steps=data.num_steps))
  writer = MetricsWriter(workdir, enabled=jax.process_index() == 0)
  if int(state.step) == 0:
    writer.write_hparams(config.to_dict())

  step = int(state.step)
  max_steps = config.train.max_steps or math.inf
  stop_reason = "max_epochs"
  try:
    while step // steps_per_epoch < config.train.max_epochs:
      if int(state.epochs_without_improvement) >= config.train.patience or step >= max_steps:
        stop_reason = "already finished"  # resumed a run that had stopped
        break
      epoch = step // steps_per_epoch
      batches = input_pipeline.train_batches(train_split, batch_size, config.seed, epoch,
                                             start=step % steps_per_epoch)
      for batch in tqdm.tqdm(batches, total=steps_per_epoch, initial=step % steps_per_epoch,
                             desc=f"epoch {epoch}", disable=None, leave=False):
        state, metrics = train_step(state, _global_batch(batch, data_sharding), train_rng)
        step += 1
        epoch_end = step % steps_per_epoch == 0
        save = step % config.train.checkpoint_every_steps == 0 and not epoch_end
        if save or epoch_end or step >= max_steps or step % config.train.log_every_steps == 0:
          metrics = jax.device_get(metrics)
          _check_finite(metrics, step, checkpoints)  # before any save: bad steps never land
          writer.write(step, metrics, "train/")
        if save:  # an epoch's end is saved after its validation, below
          checkpoints.save_latest(state)
        if step >= max_steps:
          break
      if step % steps_per_epoch:  # stopped inside an epoch (max_steps)
        stop_reason = "max_steps"
        checkpoints.save_latest(state)
        break

      valid = evaluate(state, data.splits["valid"], eval_fn, prior_fn, batch_size, data_sharding,
                       jax.random.fold_in(eval_rng, epoch))
      improved = valid["loss"] < float(state.best_valid_loss)
      state = state.replace(
          best_valid_loss=jnp.asarray(min(valid["loss"], float(state.best_valid_loss)), jnp.float32),
          epochs_without_improvement=jnp.asarray(
              0 if improved else int(state.epochs_without_improvement) + 1, jnp.int32))
      state = jax.device_put(state, replicated)
      writer.write(step, {**valid, "epoch": epoch + 1, "best_loss": float(state.best_valid_loss)},
                   "valid/")
      logging.info("epoch %d step %d: valid loss %.4f accuracy %.3f kl %.2f prior-emotion %.3f%s",
                   epoch + 1, step, valid["loss"], valid["accuracy"], valid["kl"],
                   valid["prior_emotion_accuracy"], " (best)" if improved else "")
      if improved and jax.process_index() == 0:
        checkpoints.save_best(state)
        checkpoints.export(state, config, hp, data.facts)
      checkpoints.save_latest(state)
      if int(state.epochs_without_improvement) >= config.train.patience:
        stop_reason = "early_stopping"
        break
      if step >= max_steps:
        stop_reason = "max_steps"
        break

  finally:  # also on errors: a save in flight finishes, so the last good checkpoint is whole
    checkpoints.wait()
    checkpoints.close()
    writer.close()
  summary = {"step": step, "epochs": step / steps_per_epoch, "stop_reason": stop_reason,
             "best_valid_loss": float(state.best_valid_loss)}
  logging.info("done: %s", summary)
  return {**summary, "state": state}
