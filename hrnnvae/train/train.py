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
import threading
import time

import jax
import jax.numpy as jnp
import numpy as np
import tqdm
from absl import logging
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from hrnnvae import post_training
from hrnnvae.data import emotion as emotion_lib
from hrnnvae.models.hparams import ModelHParams
from hrnnvae.train import input_pipeline
from hrnnvae.train import step as step_lib
from hrnnvae.train import warm_start as warm_start_lib
from hrnnvae.train.checkpoints import Checkpoints
from hrnnvae.train.metrics_writer import MetricsWriter

_STOP = threading.Event()


def request_stop() -> bool:
  """Asks the running train_and_evaluate to stop after the step in flight, validate and export
  (safe from a signal handler). Returns whether a stop had already been asked for."""
  asked = _STOP.is_set()
  _STOP.set()
  return asked


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
             sharding: NamedSharding, rng: jax.Array, buckets, max_bars: int, loss_hp) -> dict:
  """Validation metrics. `loss` is what training optimises at its final KL weight, per step:
  (NLL + beta_max * free-bits KL) / steps (early stopping uses it); beside it NLL, accuracy,
  KL and ELBO per melody, and E's accuracy on prior samples."""
  totals = collections.Counter()
  batch_rng, prior_rng = jax.random.split(rng)
  for index, (batch, width) in enumerate(
      input_pipeline.bucketed_eval_batches(split, batch_size, buckets, max_bars)):
    sums = jax.device_get(eval_fn((max_bars, width))(state, _global_batch(batch, sharding),
                                                    jax.random.fold_in(batch_rng, index)))
    totals.update({k: float(v) for k, v in sums.items()})
  steps, melodies = max(totals["steps"], 1.0), max(totals["melodies"], 1.0)
  prior_accuracy = np.asarray(jax.device_get(prior_fn(state, prior_rng)))
  metrics = {
      "loss": (totals["nll"] + loss_hp.beta_max * totals["kl_penalised"]) / steps,
      "negative_elbo_per_step": (totals["nll"] + totals["kl"]) / steps,
      "reconstruction_loss": totals["nll"] / steps,
      "accuracy": totals["correct"] / steps,
      "kl": totals["kl"] / melodies,
      "elbo": -(totals["nll"] + totals["kl"]) / melodies,
      "prior_emotion_accuracy": float(prior_accuracy.mean()),
  }
  for name, accuracy in zip(emotion_lib.EMOTIONS, prior_accuracy):
    metrics[f"prior_emotion_accuracy_{name}"] = float(accuracy)
  return metrics


def class_log_prior(split: input_pipeline.Split, num_classes: int) -> np.ndarray:
  """log of each event class's share of the real training steps (add-one smoothed)."""
  real = np.arange(split.events.shape[1])[None, :] < split.lengths[:, None]
  counts = np.bincount(split.events[real].ravel(), minlength=num_classes)[:num_classes] + 1.0
  return np.log(counts / counts.sum()).astype(np.float32)


class _Progress:
  """A log line every `every` steps and at least every `seconds` (also when stdout is a file):
  loss, accuracy, KL, steps/s and time left."""

  def __init__(self, every: int, start_step: int, max_steps: float, seconds: float = 10.0):
    self.every, self.max_steps, self.seconds = every, max_steps, seconds
    self.start_step, self.start_time = start_step, time.monotonic()
    self.last_time = self.start_time

  def due(self, step: int) -> bool:
    return step % self.every == 0 or time.monotonic() - self.last_time >= self.seconds

  def __call__(self, step: int, metrics: dict) -> None:
    if not self.due(step):
      return
    self.last_time = now = time.monotonic()
    rate = (step - self.start_step) / max(now - self.start_time, 1e-9)
    left = (f", at most {(self.max_steps - step) / max(rate, 1e-9) / 60:.1f} min left"
            if math.isfinite(self.max_steps) else "")
    logging.info("step %d: loss %.4f accuracy %.3f kl %.1f, %.2f steps/s%s", step,
                 float(metrics["loss"]), float(metrics["accuracy"]), float(metrics["kl"]), rate,
                 left)


def train_and_evaluate(config, workdir: str, devices=None, command: str | None = None) -> dict:
  """Trains until early stopping, max_epochs or max_steps; resumes from workdir if it can.

  Validation runs every train.eval_every_steps steps (0: at each epoch's end). Patience counts
  validations without a better validation loss; training never stops before
  train.min_steps (and the KL warm-up) have passed. When the fine-tune phase starts
  (loss.aux_start_step), the best loss resets: the export is the best fine-tuned state, or with
  train.finetune_export="last" the last validated one (the validation loss is the ELBO's, blind
  to the emotion terms that a fixed-length fine-tune is run for).

  When training ends (not when it is interrupted), the stages that follow it run as the config
  asks (post_training.run_stages: the latent prior, E's fit, shipping), each once for the
  current export; `command` is what the manifest of a shipped model records (None: the config's
  post.command, else "hrnnvae-train"). workdir/run_time.json keeps each call's wall time.
  """
  _STOP.clear()  # a stop asked of an earlier call does not carry over
  workdir = pathlib.Path(workdir)
  # Everything that can be wrong with the config or the data fails here, before the workdir exists.
  data = input_pipeline.load(config.data.cache_dir, config.data.max_steps)
  try:
    hp = ModelHParams.from_config(config.model, data.num_steps, data.min_steps_per_bar,
                                  data.max_steps_per_bar, data.max_bars)
    models = step_lib.Models.from_config(config, hp, data.facts["arousal_thresholds"],
                                         input_pipeline.real_span_arrays(data, config))
    if config.train.finetune_export not in ("best", "last"):
      raise ValueError(f"train.finetune_export must be 'best' or 'last', "
                       f"not {config.train.finetune_export!r}")
  except (ValueError, TypeError, KeyError, AttributeError) as error:
    raise TrainingError(f"the config is not valid: {error}") from error
  batch_size, train_split = config.train.batch_size, data.splits["train"]
  devices = devices if devices is not None else jax.devices()
  if batch_size % len(devices):
    raise TrainingError(f"train.batch_size={batch_size} must divide over {len(devices)} devices")
  buckets = input_pipeline.train_buckets(data, batch_size, config.train.bucket_by_bar)
  steps_per_epoch = len(input_pipeline.epoch_plan(train_split, batch_size, config.seed, 0, buckets))
  if not len(data.splits["valid"]) or not len(train_split):
    raise TrainingError(f"{config.data.cache_dir} has {len(train_split)} training and "
                        f"{len(data.splits['valid'])} validation windows: training needs both; "
                        "prepare more tunes (the whole dataset, without --limit)")
  if not steps_per_epoch:
    raise TrainingError(f"{config.data.cache_dir} has {len(train_split)} training windows: too few "
                        f"for one batch of {batch_size}; lower --config.train.batch_size or "
                        "prepare more tunes")
  workdir.mkdir(parents=True, exist_ok=True)
  logging.info("JAX %s on %d process(es), devices: %s", jax.__version__, jax.process_count(),
               devices)
  logging.debug("config:\n%s", config)  # also in metrics.jsonl's hparams and export/config.json
  eval_every = config.train.eval_every_steps or steps_per_epoch
  min_steps = config.loss.kl_warmup_steps + config.train.min_steps
  if models.generator_terms and models.loss.aux_start_step:
    min_steps = max(min_steps, models.loss.aux_start_step + config.train.min_steps)
  logging.info("%d steps an epoch in bar buckets %s; validation every %d steps; no early stop "
               "before step %d", steps_per_epoch, buckets, eval_every, min_steps)

  mesh = Mesh(np.array(devices), ("data",))
  data_sharding, replicated = NamedSharding(mesh, P("data")), NamedSharding(mesh, P())
  init_rng, train_rng, eval_rng = jax.random.split(jax.random.key(config.seed), 3)
  make_state = functools.partial(step_lib.init_state, models, init_rng, batch_size, data.num_steps,
                                 class_log_prior(train_split, hp.num_classes))
  checkpoints = Checkpoints(workdir)
  state = checkpoints.restore_latest(jax.eval_shape(make_state))
  if state is None:
    state = make_state()
    if config.train.init_from:
      try:
        state = warm_start_lib.warm_start(state, models, config.train.init_from)
      except warm_start_lib.WarmStartError as error:
        raise TrainingError(str(error)) from error
  else:
    logging.info("resuming from step %d", int(state.step))
  state = jax.device_put(state, replicated)

  @functools.cache
  def train_fn(grid, finetune):
    logging.info("compiling the %s train step for %d bars x %d steps (once per bar length)",
                 "fine-tune" if finetune else "ELBO", *grid)
    return jax.jit(functools.partial(step_lib.train_step, models=models, grid=grid,
                                     finetune=finetune),
                   in_shardings=(replicated, data_sharding, replicated),
                   out_shardings=(replicated, replicated), donate_argnums=0)

  @functools.cache
  def eval_fn(grid):
    return jax.jit(functools.partial(step_lib.eval_step, models=models, grid=grid),
                   in_shardings=(replicated, data_sharding, replicated), out_shardings=replicated)

  prior_fn = jax.jit(functools.partial(
      step_lib.prior_emotion_accuracy, steps_per_bar=data.facts["steps_per_bar"], models=models,
      per_emotion=config.train.eval_prior_samples, num_steps=data.num_steps))
  # The fine-tune phase's first step (never, without auxiliary terms).
  aux_start = models.loss.aux_start_step if models.generator_terms else math.inf
  writer = MetricsWriter(workdir, enabled=jax.process_index() == 0)
  if int(state.step) == 0:
    writer.write_hparams(config.to_dict())
  clock = post_training.RunClock(workdir, int(state.step))

  def validate_and_save(state, step):
    valid = evaluate(state, data.splits["valid"], eval_fn, prior_fn, batch_size, data_sharding,
                     jax.random.fold_in(eval_rng, step), buckets, data.max_bars, models.loss)
    improved = valid["loss"] < float(state.best_valid_loss)
    if config.train.finetune_export == "last" and step > aux_start:
      improved = True  # the validation loss does not see the emotion terms the fine-tune is for
    state = state.replace(
        best_valid_loss=jnp.asarray(min(valid["loss"], float(state.best_valid_loss)), jnp.float32),
        evaluations_without_improvement=jnp.asarray(
            0 if improved else int(state.evaluations_without_improvement) + 1, jnp.int32))
    state = jax.device_put(state, replicated)
    writer.write(step, {**valid, "epoch": step / steps_per_epoch,
                        "best_loss": float(state.best_valid_loss)}, "valid/")
    logging.info("step %d (epoch %.1f): valid loss %.4f nll %.4f accuracy %.3f kl %.1f "
                 "prior-emotion %.3f%s", step, step / steps_per_epoch, valid["loss"],
                 valid["reconstruction_loss"], valid["accuracy"], valid["kl"],
                 valid["prior_emotion_accuracy"], " (best)" if improved else "")
    if improved and jax.process_index() == 0:
      checkpoints.save_best(state)
      checkpoints.export(state, config, hp, data.facts)
    checkpoints.save_latest(state)
    if jax.process_index() == 0:
      clock.tick(step)
    return state

  step = int(state.step)
  max_steps = min(config.train.max_steps or math.inf, config.train.max_epochs * steps_per_epoch)
  progress = _Progress(config.train.log_every_steps, step, max_steps)
  def patience_spent(state, step) -> bool:
    return (int(state.evaluations_without_improvement) >= config.train.patience
            and step >= min_steps)

  try:
    try:
      while step < max_steps and not patience_spent(state, step) and not _STOP.is_set():
        epoch, index = divmod(step, steps_per_epoch)
        batches = input_pipeline.bucketed_batches(train_split, batch_size, config.seed, epoch,
                                                  buckets, data.max_bars, start=index)
        for batch, width in tqdm.tqdm(batches, total=steps_per_epoch, initial=index,
                                      desc=f"epoch {epoch}", disable=None, leave=False):
          if step == aux_start and step > 0:  # the fine-tune phase: its best state is the export
            logging.info("step %d: fine-tune phase starts (emotion and adversarial terms)", step)
            state = state.replace(best_valid_loss=jnp.asarray(jnp.inf, jnp.float32),
                                  evaluations_without_improvement=jnp.zeros((), jnp.int32))
          finetune = step >= aux_start
          state, metrics = train_fn((data.max_bars, width), finetune)(
              state, _global_batch(batch, data_sharding), train_rng)
          step += 1
          validate = step % eval_every == 0
          save = step % config.train.checkpoint_every_steps == 0 and not validate
          log = step % config.train.log_every_steps == 0
          if save or validate or log or step >= max_steps or progress.due(step):
            metrics = jax.device_get(metrics)
            _check_finite(metrics, step, checkpoints)  # before any save: bad steps never land
            if save or validate or log or step >= max_steps:
              writer.write(step, metrics, "train/")
            progress(step, metrics)
          if save:  # a validation step is saved after its validation, below
            checkpoints.save_latest(state)
          if validate:
            state = validate_and_save(state, step)
            if patience_spent(state, step):
              break
          if step >= max_steps or _STOP.is_set():
            break
      stop_reason = ("interrupted" if _STOP.is_set() else
                     "early_stopping" if patience_spent(state, step) else "max_steps")
      if _STOP.is_set():
        logging.warning("stopping at step %d, as asked", step)
    except KeyboardInterrupt:  # a Ctrl-C that Python raised mid-step: keep the best exported
      stop_reason = "interrupted"
      logging.warning("interrupted at step %d", step)
    intact = not any(isinstance(leaf, jax.Array) and leaf.is_deleted()  # not mid-update
                     for leaf in jax.tree.leaves(state))
    if intact and (step % eval_every or not (workdir / "export" / "config.json").is_file()):
      # Ended between validations (max_steps, an interrupt): validate now, so the export is
      # never missing (a first validation always improves on the initial infinite loss).
      state = validate_and_save(state, step)
    elif not intact:
      logging.warning("the step in flight was lost; export/ keeps the best validated state and "
                      "checkpoints/latest the last saved one")
  finally:  # also on errors: a save in flight finishes, so the last good checkpoint is whole
    checkpoints.wait()
    checkpoints.close()
    writer.close()
    if jax.process_index() == 0:
      clock.tick(step)
  summary = {"step": step, "epochs": step / steps_per_epoch, "stop_reason": stop_reason,
             "best_valid_loss": float(state.best_valid_loss) if intact else None}
  if stop_reason == "interrupted":  # a stop was asked for: do not spend another minute
    logging.warning("interrupted: the stages after training (latent prior, E's fit, shipping, as "
                    "the config asks) run when the same command is run again")
  elif jax.process_index() == 0 and (workdir / "export" / "config.json").is_file():
    summary["stages"] = post_training.run_stages(
        config, workdir, command=command or "hrnnvae-train", arrays=data.arrays,
        log=logging.info)
  logging.info("done: %s", summary)
  return {**summary, "state": state}
