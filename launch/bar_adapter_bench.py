"""The bar adapter's train step (bar_adapter.make_train_step) timed against the masked full
gradient it replaced, on a run's export as training left it (before any adapter), with the
gradients of the trained leaves compared and, with --fit_steps, both fits run side by side.

  PYTHONPATH=. python launch/bar_adapter_bench.py --workdir=runs/nottingham_ship \\
      --cache=runs/nottingham_ship/data [--fit_steps=200]

The reference step takes the gradient of every parameter, multiplies the frozen ones' by zero
and clips by the norm of them all (the step before 2026-12-05 (xxv)); the shipped step takes
the gradient of the trained leaves alone and clips by their norm. Each prints seconds a step
(the median of --timed_steps, after one to compile), and the fits print how far their
parameters end apart and how often the reference's clip bound.
"""

from __future__ import annotations

import functools
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax
from absl import app, flags

from hrnnvae import bar_adapter, post_training
from hrnnvae import models as models_lib
from hrnnvae.exports import model_dir
from hrnnvae.sample import Sampler
from hrnnvae.train import input_pipeline
from hrnnvae.train import step as step_lib

_WORKDIR = flags.DEFINE_string("workdir", None, "A training run (or its export/).", required=True)
_CACHE = flags.DEFINE_string("cache", None, "The run's prepared cache.", required=True)
_WIDTH = flags.DEFINE_integer("width", 256, "The adapter's width (config.post.bar_adapter_dim).")
_TIMED_STEPS = flags.DEFINE_integer("timed_steps", 10, "Steps timed per step function.")
_FIT_STEPS = flags.DEFINE_integer("fit_steps", 0, "Steps of both fits compared (0: none).")
_BETA = flags.DEFINE_float("beta", 0.2, "The KL weight (config.loss.beta_max).")
_FREE_BITS = flags.DEFINE_float("free_bits", 256.0, "config.loss.free_bits.")
_CLIP = flags.DEFINE_float("clip", 1.0, "config.train.grad_clip_norm.")
_LEARNING_RATE = flags.DEFINE_float("learning_rate", 2e-3, "config.post.bar_adapter_learning_rate.")
_MAX_STEPS = flags.DEFINE_integer("max_steps", 0, "Crops the cache's windows to this many steps, "
                                  "as config.data.max_steps does (0: every step).")
_BUCKET_BY_BAR = flags.DEFINE_bool("bucket_by_bar", True, "config.train.bucket_by_bar: batches in "
                                   "the fit's bar buckets, or one (input_pipeline.train_buckets).")


def reference_step(vae, tx, mask, *, beta, free_bits, grad_clip_norm):
  """The step before (xxv): the full gradient, clipped by its norm, then masked. Also returns
  that norm."""

  @functools.partial(jax.jit, static_argnums=(4,))
  def train_step(params, opt_state, batch, rng, grid):
    loss, grads = jax.value_and_grad(lambda p: bar_adapter.elbo_with_bars(
        vae, p, batch, rng, grid, beta=beta, free_bits=free_bits))(params)
    norm = optax.global_norm(grads)
    grads = jax.tree.map(jnp.multiply, step_lib.clip(grads, grad_clip_norm), mask)
    updates, opt_state = tx.update(grads, opt_state, params)
    updates = jax.tree.map(jnp.multiply, updates, mask)
    return optax.apply_updates(params, updates), opt_state, loss, norm

  return train_step


def main(argv):
  del argv
  sampler = post_training.sampler_before_bar_adapter(Sampler.load(model_dir(_WORKDIR.value)))
  hp, params = bar_adapter.attach(sampler.hp, sampler.params["vae"], _WIDTH.value, 0)
  vae = models_lib.build(hp)
  mask = bar_adapter.trainable_mask(params)
  tx = optax.adam(_LEARNING_RATE.value)
  options = {"beta": _BETA.value, "free_bits": _FREE_BITS.value, "grad_clip_norm": _CLIP.value}
  steps = {"reference (full gradient, masked)": reference_step(vae, tx, mask, **options),
           "shipped (trained leaves only)": bar_adapter.make_train_step(vae, tx, mask, **options)}
  data = input_pipeline.load(_CACHE.value, _MAX_STEPS.value)
  buckets = input_pipeline.train_buckets(data, bar_adapter.BATCH_SIZE, _BUCKET_BY_BAR.value)
  batches = input_pipeline.endless_batches(data.splits["train"], bar_adapter.BATCH_SIZE, 0,
                                           data.max_bars, buckets)
  batches = [({key: jnp.asarray(value) for key, value in batch.items()}, (data.max_bars, width))
             for batch, width in (next(batches) for _ in range(max(_TIMED_STEPS.value, 1) + 1))]
  rng = jax.random.key(0)
  print(f"{len(jax.tree.leaves(params))} leaves, "
        f"{int(sum(m.sum() for m in jax.tree.leaves(mask)))} of "
        f"{sum(leaf.size for leaf in jax.tree.leaves(params))} parameters trained")
  for name, step in steps.items():
    opt_state = tx.init(params)
    batch, grid = batches[0]
    jax.block_until_ready(step(params, opt_state, batch, rng, grid))  # compiles
    seconds = []
    for batch, grid in batches[1:]:
      started = time.perf_counter()
      jax.block_until_ready(step(params, opt_state, batch, rng, grid))
      seconds.append(time.perf_counter() - started)
    print(f"{name:<36} {np.median(seconds):.3f} s a step (median of {len(seconds)})")
  if _FIT_STEPS.value:
    fitted, norms = {}, []
    for name, step in steps.items():
      current, opt_state = params, tx.init(params)
      fit_batches = input_pipeline.endless_batches(data.splits["train"], bar_adapter.BATCH_SIZE,
                                                   0, data.max_bars, buckets)
      for index, (batch, width) in zip(range(_FIT_STEPS.value), fit_batches):
        batch = {key: jnp.asarray(value) for key, value in batch.items()}
        out = step(current, opt_state, batch, jax.random.fold_in(rng, index),
                   (data.max_bars, width))
        current, opt_state = out[0], out[1]
        if name.startswith("reference"):
          norms.append(float(out[3]))
      fitted[name] = current
    reference, shipped = fitted.values()
    apart = max(float(jnp.max(jnp.abs(a - b))) for a, b in zip(jax.tree.leaves(reference),
                                                               jax.tree.leaves(shipped)))
    print(f"after {_FIT_STEPS.value} steps: the fits' parameters differ by at most {apart:.3g}; "
          f"the reference's full-gradient norm was over the clip ({_CLIP.value}) at "
          f"{int((np.array(norms) > _CLIP.value).sum())} steps (max {max(norms):.3f})")


if __name__ == "__main__":
  app.run(main)
