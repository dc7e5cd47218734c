"""The bar adapter's fit (config.post.bar_adapter_*; models/decoder.DecoderStep.bar_adapter).

A model trained with bar-latent dropout (model.bar_latent_dropout) decodes z alone (prior
samples) and z with the bars' latents (reconstruction, interpolation, a tune's edits) with one
set of weights, and the more training makes those weights follow the bars, the less its prior
samples sound like real tunes (BUILD_NOTES.md, issue 19 (iii)-(v): dropout 0.5, 0.7 and 0.8 lie
on one curve of greedy onset pitch against realism). The adapter is a layer that only the bars
reach: it adds W (tanh(A [state, position] + U bar) - tanh(A [state, position])) to the logits,
which is exactly zero where the bar latent is zero, so every decode from z alone is bit-equal
with or without it.

It is fitted after training: the training windows are reconstructed teacher-forced with the
bars always present, and the ELBO (the run's KL weight and free bits) trains the adapter and the
encoder's bar heads (bar_mu, bar_log_var, which read the frozen encoder's bar summaries) while
every other weight stays as trained. The fit's report measures greedy reconstruction and its
pitch at shared onsets on validation windows before and after, and checks that their decodes
from z alone did not change.
"""

from __future__ import annotations

import dataclasses
import functools
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

from hrnnvae import losses, progress
from hrnnvae import models as models_lib
from hrnnvae.evaluation import scoring
from hrnnvae.models.hparams import ModelHParams
from hrnnvae.train import input_pipeline
from hrnnvae.train import step as step_lib

# The parameters the fit trains: the adapter, and the encoder's heads that make each bar's latent.
TRAINABLE = ("decoder/step/adapter_", "bar_mu/", "bar_log_var/")
MEASURE_WINDOWS = 256  # validation windows the report measures greedy reconstruction on
MEASURED_KEYS = ("events", "lengths", "steps_per_bar", "emotion", "start_bar")  # each window where it sits
BATCH_SIZE = 64


def attach(hp: ModelHParams, vae_params: dict, width: int, seed: int = 0) -> tuple[ModelHParams,
                                                                                   dict]:
  """(hparams with model.bar_adapter_dim = width, the VAE's parameters with a fresh adapter):
  every parameter the model had is kept as it is (an adapter it had is replaced by a fresh one,
  whose zero output kernel leaves the logits as they were)."""
  if not hp.prior_drops_bar_latents:
    raise ValueError("the bar adapter needs a model trained with bar-latent dropout "
                     "(model.bar_latent_dim > 0, model.bar_latent_dropout > 0)")
  if width <= 0:
    raise ValueError(f"the bar adapter's width must be positive, not {width}")
  hp = dataclasses.replace(hp, bar_adapter_dim=int(width))
  vae = models_lib.build(hp)
  fresh = vae.init(jax.random.key(seed), jnp.zeros((1, 8), jnp.int32), jnp.full((1,), 8),
                   jnp.full((1,), 4), jnp.zeros((1,), jnp.int32), jax.random.key(seed))["params"]

  def kept(path, leaf):
    name = _name(path)
    if name.startswith(TRAINABLE[0]):
      return leaf
    node = vae_params
    for key in path:
      node = node[key.key]
    if np.shape(node) != leaf.shape:
      raise ValueError(f"parameter {name} has shape {np.shape(node)}, the model needs {leaf.shape}")
    return jnp.asarray(node)

  return hp, jax.tree_util.tree_map_with_path(kept, fresh)


def _name(path) -> str:
  return "/".join(str(key.key) for key in path)


def trainable_mask(vae_params: dict) -> dict:
  """1.0 on the leaves the fit trains (TRAINABLE), 0.0 elsewhere, in the parameters' tree."""
  return jax.tree_util.tree_map_with_path(
      lambda path, leaf: jnp.full(leaf.shape, float((_name(path) + "/").startswith(TRAINABLE)),
                                  leaf.dtype), vae_params)


def elbo_with_bars(vae, params, batch, rng, grid, *, beta: float, free_bits: float):
  """The ELBO loss per real step with every melody's bars' latents present (no dropout): NLL
  plus beta times the free-bits KL, over the batch's real steps."""
  real_BxT = jnp.arange(batch["events"].shape[1])[None] < batch["lengths"][:, None]
  out = vae.apply({"params": params}, batch["events"], batch["lengths"], batch["steps_per_bar"],
                  batch["emotion"], rng, grid, first_bar_B=batch.get("start_bar"),
                  method="reconstruct")
  nll_B, _ = losses.reconstruction(out["logits"], batch["events"], real_BxT)
  kl = losses.free_bits_kl(out["kl"], free_bits)
  return (nll_B.sum() + beta * kl.sum()) / jnp.maximum(batch["lengths"].sum(), 1)


def make_train_step(vae, tx: optax.GradientTransformation, mask: dict, *, beta: float,
                    free_bits: float, grad_clip_norm: float):
  """(params, opt_state, batch, rng, grid) -> (params, opt_state, loss): one step of
  elbo_with_bars, only the masked leaves moving; jitted per grid.

  The gradient is taken of the masked leaves alone: every other leaf enters the loss through
  stop_gradient, so the backward pass skips the frozen weights' own gradients and the whole
  encoder's but for its bar heads (the masked leaves' gradients are bit-equal to those of the
  full gradient; launch/bar_adapter_bench.py times both). The clip is the masked leaves' global
  norm, the gradient of what moves."""
  trained = jax.tree.map(lambda leaf: bool(np.asarray(leaf).all()), mask)

  def loss_of(params, batch, rng, grid):
    params = jax.tree.map(lambda moves, leaf: leaf if moves else jax.lax.stop_gradient(leaf),
                          trained, params)
    return elbo_with_bars(vae, params, batch, rng, grid, beta=beta, free_bits=free_bits)

  @functools.partial(jax.jit, static_argnums=(4,))
  def train_step(params, opt_state, batch, rng, grid):
    loss, grads = jax.value_and_grad(loss_of)(params, batch, rng, grid)
    grads = step_lib.clip(grads, grad_clip_norm)  # zero on every frozen leaf (stop_gradient)
    updates, opt_state = tx.update(grads, opt_state, params)
    updates = jax.tree.map(jnp.multiply, updates, mask)
    return optax.apply_updates(params, updates), opt_state, loss

  return train_step


def greedy_reconstruction(sampler, events_BxT, lengths_B, steps_per_bar_B, emotion_B,
                          start_bar_B=None) -> dict:
  """Greedy decodes of the melodies from their posterior means (scoring.greedy_counts), each
  from where it starts in its tune (start_bar_B; None: bar 0): the share of real steps they
  reproduce, the share of shared onsets whose pitch they reproduce, and the greedy decodes of
  the same means from z alone (their bars' latents zero; events [B, T])."""
  mu, _ = sampler.posterior(events_BxT, lengths_B, steps_per_bar_B)
  _, counts = scoring.greedy_counts(sampler, mu, events_BxT, lengths_B, steps_per_bar_B, emotion_B,
                                    first_bars_B=start_bar_B)
  alone, _ = scoring.greedy_counts(sampler, np.asarray(sampler.hp.without_bar_latents(mu)),
                                   events_BxT, lengths_B, steps_per_bar_B, emotion_B,
                                   first_bars_B=start_bar_B)
  return {"greedy": counts["sampled_correct"] / counts["real_steps"],
          "greedy_onset_pitch": counts["onset_pitch_correct"] / max(counts["both_onsets"], 1),
          "z_alone_events": alone}


def _measured_windows(split: input_pipeline.Split, seed: int) -> tuple[np.ndarray, ...]:
  if not len(split):
    raise ValueError("the cache has no validation windows to measure the fit on")
  rows = np.random.default_rng(seed).permutation(len(split.lengths))[:MEASURE_WINDOWS]
  batch = split.take(rows)
  return tuple(batch[key] for key in MEASURED_KEYS)


def fit(sampler, data: input_pipeline.Data, *, width: int, steps: int, learning_rate: float,
        beta: float, free_bits: float, grad_clip_norm: float, seed: int,
        bucket_by_bar: bool = True, log=None) -> tuple[ModelHParams, dict, dict]:
  """Fits a fresh bar adapter of `width` units to the sampler's model on data's training
  windows (module docstring): (the hparams with the adapter, the VAE's parameters, the report).
  sampler: the model as trained (its encoder's bar heads as training left them).
  bucket_by_bar: batches as training made them (config.train.bucket_by_bar;
  input_pipeline.train_buckets)."""
  log = log or progress.silent
  started = time.monotonic()
  hp, params = attach(sampler.hp, sampler.params["vae"], width, seed)
  vae = models_lib.build(hp)
  mask = trainable_mask(params)
  tx = optax.adam(learning_rate)
  train_step = make_train_step(vae, tx, mask, beta=beta, free_bits=free_bits,
                               grad_clip_norm=grad_clip_norm)
  windows = _measured_windows(data.splits["valid"], seed)
  validation_loss = jax.jit(lambda p: elbo_with_bars(
      vae, p, dict(zip(MEASURED_KEYS, windows)),
      jax.random.key(seed), None, beta=beta, free_bits=free_bits))
  loss_before = float(validation_loss(params))
  before = greedy_reconstruction(sampler, *windows)
  opt_state, rng = tx.init(params), jax.random.key(seed)
  recent = []
  batches = input_pipeline.endless_batches(
      data.splits["train"], BATCH_SIZE, seed, data.max_bars,
      input_pipeline.train_buckets(data, BATCH_SIZE, bucket_by_bar))
  for step, (batch, bar_width) in zip(range(1, steps + 1), batches):
    batch = {key: jnp.asarray(value) for key, value in batch.items()}
    params, opt_state, loss = train_step(params, opt_state, batch,
                                         jax.random.fold_in(rng, step - 1),
                                         (data.max_bars, bar_width))
    recent = (recent + [float(loss)])[-50:]
    if step % 100 == 0 or step == steps:
      log(f"bar adapter: step {step}/{steps}, loss {np.mean(recent):.4f}")
  fitted = type(sampler)(hp, {**sampler.params, "vae": params}, sampler.description)
  after = greedy_reconstruction(fitted, *windows)
  report = {
      "width": int(width), "steps": int(steps), "learning_rate": float(learning_rate),
      "bucket_by_bar": bool(bucket_by_bar),
      "trainable_parameters": int(sum(m.sum() for m in jax.tree.leaves(mask))),
      "train_loss_last_50_steps": float(np.mean(recent)) if recent else None,
      "validation_windows": int(len(windows[1])),
      "validation_loss_before": loss_before, "validation_loss_after": float(validation_loss(params)),
      "validation_greedy_before": before["greedy"], "validation_greedy_after": after["greedy"],
      "validation_greedy_onset_pitch_before": before["greedy_onset_pitch"],
      "validation_greedy_onset_pitch_after": after["greedy_onset_pitch"],
      "z_alone_decodes_unchanged": bool(np.array_equal(before["z_alone_events"],
                                                       after["z_alone_events"])),
      "seconds": round(time.monotonic() - started, 1)}
  if not report["z_alone_decodes_unchanged"]:
    raise RuntimeError("the bar adapter changed decodes from z alone: it must never reach them")
  log(f"bar adapter: validation greedy {before['greedy']:.3f} -> {after['greedy']:.3f}, onset "
      f"pitch {before['greedy_onset_pitch']:.3f} -> {after['greedy_onset_pitch']:.3f}")
  return hp, params, report
