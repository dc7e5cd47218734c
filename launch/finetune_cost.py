"""Where a fine-tune step's time goes (issue 19: the one command's 150 minutes).

The 32-bar spans arms' fine-tune ran at 0.35-0.41 steps/s on 2 cores, the shipped recipe's at
1.2-1.45. This times, on one batch of the data's most common bar bucket, each piece of the
config's fine-tune step, every piece jitted on its own:
  step          the whole train_step (fine-tune phase)
  elbo_step     the whole train_step (ELBO phase)
  draw          aux_terms.draw_prior_samples: the free-running decode of the fine-tune samples
  rescore       the straight-through re-scoring (the teacher-forced decode of the samples), its
                value and its gradient
  features      melody_mmd.style_features of the samples, value and gradient
  realism       the realism term on fixed samples (features and MMDs), value and gradient
  mmd           the conditional MMD alone against the term's real side, value and gradient
The pieces overlap (the step holds them all) and XLA fuses across them inside the step, so the
pieces' sum is not the step's time: each says what one part costs on its own.

  python launch/finetune_cost.py --config=configs/nottingham_ship.py \
      --config.data.cache_dir=runs/nott_data [--config.loss....=...] [--repeats=3] [--json=F]
A figure, never a test: run it on an otherwise idle machine.
"""

from __future__ import annotations

import functools
import json
import time

import jax
import jax.numpy as jnp
import numpy as np
from absl import app, flags
from ml_collections import config_flags

from hrnnvae import melody_mmd
from hrnnvae.models.hparams import ModelHParams
from hrnnvae.train import aux_terms, input_pipeline, realism_spans
from hrnnvae.train import step as step_lib

_CONFIG = config_flags.DEFINE_config_file("config", None, "A configs/*.py file.")
_REPEATS = flags.DEFINE_integer("repeats", 3, "Timed calls of each piece; the median is kept.")
_JSON = flags.DEFINE_string("json", None, "Also write the figures here.")
_STEPS_ONLY = flags.DEFINE_bool("steps_only", False, "Time the two whole steps only.")


def _timed(fn, *args, repeats: int) -> tuple[float, float]:
  """(compile and first call s, median s of the next `repeats` calls)."""
  start = time.perf_counter()
  jax.block_until_ready(fn(*args))
  first = time.perf_counter() - start
  times = []
  for _ in range(repeats):
    start = time.perf_counter()
    jax.block_until_ready(fn(*args))
    times.append(time.perf_counter() - start)
  return first, float(np.median(times))


def main(argv):
  del argv
  config = _CONFIG.value
  data = input_pipeline.load(config.data.cache_dir, config.data.max_steps)
  hp = ModelHParams.from_config(config.model, data.num_steps, data.min_steps_per_bar,
                                data.max_steps_per_bar, data.max_bars)
  models = step_lib.Models.from_config(config, hp, data.facts["arousal_thresholds"],
                                       input_pipeline.real_span_arrays(data, config))
  batch_size, split = config.train.batch_size, data.splits["train"]
  buckets = input_pipeline.train_buckets(data, batch_size, config.train.bucket_by_bar)
  plan = input_pipeline.epoch_plan(split, batch_size, 0, 0, buckets)
  widths = [width for _, width in plan]
  width = max(set(widths), key=widths.count)
  rows = next(rows for rows, w in plan if w == width)
  num_steps = min(data.num_steps, data.max_bars * width) if config.train.bucket_by_bar else data.num_steps
  batch = jax.tree.map(jnp.asarray, {**split.take(rows), "events": split.events[rows][:, :num_steps]})
  grid = (data.max_bars, width)
  state = step_lib.init_state(models, jax.random.key(0), batch_size, data.num_steps)
  mask = step_lib._mask(batch)  # noqa: SLF001 (the step's own mask)
  repeats = _REPEATS.value
  figures = {}

  def record(name, fn, *args):
    first, median = _timed(fn, *args, repeats=repeats)
    figures[name] = {"first_s": first, "median_s": median}
    print(f"{name:<10} first call {first:8.1f} s   median {median:8.3f} s", flush=True)

  for finetune, name in ((False, "elbo_step"), (True, "step")):
    step = jax.jit(functools.partial(step_lib.train_step, models=models, grid=grid,
                                     finetune=finetune))
    record(name, step, state, batch, jax.random.key(1))
  if _STEPS_ONLY.value:
    pass
  elif not models.generator_terms:
    print("the config's fine-tune has no generator terms: nothing more to time")
  else:
    target_B = aux_terms.target_emotions(models.loss, batch, jax.random.key(2), hp.num_emotions)
    draw = jax.jit(lambda params, batch, rng: aux_terms.draw_prior_samples(
        models, params, batch, mask, target_B, rng, jax.random.fold_in(rng, 1), grid))
    record("draw", draw, state.vae_params, batch, jax.random.key(3))
    prior = draw(state.vae_params, batch, jax.random.key(3))
    if prior.grid is not None:  # jit returned the static grid as arrays
      prior = prior._replace(grid=tuple(int(size) for size in prior.grid))

    def rescored(params):
      return aux_terms.straight_through(models, params, batch, prior).sum()
    record("rescore", jax.jit(jax.value_and_grad(rescored)), state.vae_params)
    samples = aux_terms.straight_through(models, state.vae_params, batch, prior)
    extra = realism_spans.feature_options(models.loss)
    lengths = prior.mask_BxT.sum(1)

    def features(rows):
      return melody_mmd.style_features(rows, prior.events_BxT, lengths, batch["steps_per_bar"],
                                       **extra).sum()
    record("features", jax.jit(jax.value_and_grad(features)), samples)
    if models.loss.realism_weight > 0:
      def realism(rows):
        inputs = aux_terms.TermInputs(models, state, batch, mask, None, prior, rows)
        return aux_terms.realism_term(inputs)[0]
      record("realism", jax.jit(jax.value_and_grad(realism)), samples)
      generated = melody_mmd.style_features(samples, prior.events_BxT, lengths,
                                            batch["steps_per_bar"], **extra)
      spans = models.realism_spans
      if spans is not None:
        real = spans.features
        real_emotion = realism_spans.batch_view(spans, batch["steps_per_bar"])
      else:
        real = melody_mmd.style_features(jax.nn.one_hot(batch["events"], hp.num_classes),
                                         batch["events"], batch["lengths"],
                                         batch["steps_per_bar"], **extra)
        real_emotion = batch["emotion"]
      print(f"mmd: {generated.shape[0]} samples against {real.shape[0]} real melodies, "
            f"{real.shape[1]} columns")

      def mmd(features_NxF):
        return melody_mmd.conditional_mmd(features_NxF, prior.target_B, real, real_emotion,
                                          per_quadrant=models.loss.realism_per_quadrant)
      record("mmd", jax.jit(jax.value_and_grad(mmd)), generated)
  result = {"backend": jax.default_backend(), "device": jax.devices()[0].device_kind,
            "batch_size": batch_size, "num_steps": num_steps, "grid": list(grid),
            "prior_sample_bars": models.loss.prior_sample_bars, "figures": figures}
  if _JSON.value:
    with open(_JSON.value, "w") as f:
      json.dump(result, f, indent=1)


if __name__ == "__main__":
  flags.mark_flag_as_required("config")
  app.run(main)
