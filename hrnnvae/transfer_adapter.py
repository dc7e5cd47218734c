"""Emotion transfer's own adapter (config.post.transfer_adapter_*; issue 19, transfer that keeps).

A bar-dropout model keeps a tune's notes in its bars' latents, and the bar adapter
(bar_adapter.py) makes the decoder follow them whatever emotion is asked: with the bars kept,
transfer keeps the tune and misses the emotion (BUILD_NOTES.md, issue 19 (vi)); from z alone it
reaches the emotion and keeps about 0.63 of the steps. The transfer adapter is a second set of
the bar adapter's weights, used only where emotion transfer decodes a tune for another emotion
than its own (Sampler.decode_posterior's moved rows), with the tune's bars' latents kept. Prior
samples, reconstructions and interpolations never read it: they are bit-equal with or without.

It is fitted after the bar adapter, starting from its weights (so at step 0 a transfer is the
tune's reconstruction for the requested emotion): each training window, encoded to its mean
latent with its bars, is decoded free-running for one of the three other emotions at the
transfer's temperature and nucleus, and the adapter alone learns from

    the judge's mode and arousal margins on the straight-through decode against the requested
    emotion (feature_consistency.py, the fine-tune's emotion term)
  + keep_weight * the cross-entropy per step of the tune's own event, read on the transfer's own
    history (the decode's logits teacher-forced on its sampled events),

so the edits the emotion needs are paid for by every step they change. With tune_steps > 0 the
adapter also reads the tune it moves, its events at this step and the next tune_steps - 1 (a
zero-initialised `adapter_tune` leaf; models/decoder.DecoderStep.bar_adapter): where the bars'
latents say roughly which notes a bar holds, this says which note the step would keep, so the
adapter can learn which notes an emotion changes and into what. The fit's report measures
transfer on validation opening windows (the judge's agreement and the steps kept) before and
after, and checks that reconstructions of those windows did not change.
"""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

from hrnnvae import feature_consistency, losses, progress
from hrnnvae.data import emotion as emotion_lib
from hrnnvae.data import events as events_lib
from hrnnvae.train import aux_terms, input_pipeline
from hrnnvae.train import step as step_lib

PARAMS_KEY = "transfer_adapter"  # the export's parameters: {..., PARAMS_KEY: adapter leaves}
ADAPTER_PREFIX = "adapter_"  # the bar adapter's leaves under vae/decoder/step
BATCH_SIZE = 32
GUMBEL_TEMPERATURE = 1.0  # the straight-through softmax's, as the fine-tune's default


def bar_adapter_of(vae_params: dict) -> dict:
  """The bar adapter's leaves {adapter_state, adapter_bar, adapter_out} of a VAE's parameters."""
  step = vae_params["decoder"]["step"]
  adapter = {name: leaf for name, leaf in step.items() if name.startswith(ADAPTER_PREFIX)}
  if not adapter:
    raise ValueError("the model has no bar adapter (config.post.bar_adapter_steps): emotion "
                     "transfer's adapter starts from it")
  return adapter


def tune_steps_of(adapter: dict) -> int:
  """How many of the tune's steps an adapter reads (its `adapter_tune` leaf; 0 without)."""
  if "adapter_tune" not in adapter:
    return 0
  return int(adapter["adapter_tune"]["kernel"].shape[0]) // events_lib.NUM_CLASSES


def with_tune_reading(adapter: dict, tune_steps: int) -> dict:
  """The adapter with a zero `adapter_tune` leaf reading tune_steps of the tune's steps (so it
  decodes exactly as before until fitted); as it is when it already reads that many."""
  reads = tune_steps_of(adapter)
  if reads == tune_steps:
    return adapter
  if reads:
    raise ValueError(f"the adapter reads {reads} of the tune's steps, not {tune_steps}")
  width = adapter["adapter_bar"]["kernel"].shape[-1]
  kernel = jnp.zeros((tune_steps * events_lib.NUM_CLASSES, width),
                     adapter["adapter_bar"]["kernel"].dtype)
  return {**adapter, "adapter_tune": {"kernel": kernel}}


def with_adapter(vae_params: dict, adapter: dict) -> dict:
  """The VAE's parameters with the bar adapter's leaves replaced by `adapter`'s."""
  decoder = vae_params["decoder"]
  return {**vae_params, "decoder": {**decoder, "step": {**decoder["step"], **adapter}}}


def requested_emotions(own_B, rng) -> jax.Array:
  """For each melody one of the other emotions, uniformly."""
  quadrants = len(emotion_lib.EMOTIONS)
  return (own_B + jax.random.randint(rng, own_B.shape, 1, quadrants)) % quadrants


def mode_change_weights(own_B, requested_B, mode_weight: float) -> jax.Array:
  """[B] 1 + mode_weight where the requested emotion's mode is not the tune's (major asked for
  minor or minor for major), else 1."""
  sign = jnp.asarray(feature_consistency.VALENCE_SIGN)
  return 1.0 + mode_weight * (sign[own_B] != sign[requested_B]).astype(jnp.float32)


def weighted_emotion_term(found, requested_B, valence_weight_B, margin: float = 0.0):
  """The fit's emotion term: for valence and arousal, consistency_loss's softplus, or at margin >
  0 a hinge, relu(margin - sign * margin_found / scale), zero once a melody is `margin` scales
  inside the requested quadrant; each melody's valence part times valence_weight_B ([B] or a
  scalar). At weight 1 and margin 0 it is consistency_loss."""
  valence = jnp.asarray(feature_consistency.VALENCE_SIGN)[requested_B] * found["valence"]
  arousal = jnp.asarray(feature_consistency.AROUSAL_SIGN)[requested_B] * found["arousal"]
  valence, arousal = (valence / feature_consistency.VALENCE_SCALE,
                      arousal / feature_consistency.AROUSAL_SCALE)
  push = ((lambda m: jax.nn.relu(margin - m)) if margin > 0
          else (lambda m: jax.nn.softplus(-m)))
  return (valence_weight_B * push(valence) + push(arousal)).mean()


def transfer_loss(vae, vae_params, adapter, batch, z_BxZ, requested_B, rng, grid, thresholds, *,
                  keep_weight: float, temperature: float, top_p: float, margin: float = 0.0,
                  keep_bias: float = 0.0, mode_weight: float = 0.0):
  """(loss, metrics) of one batch of transfers (module docstring); the gradient reaches the
  adapter alone. margin > 0: the emotion term is weighted_emotion_term's hinge at that margin,
  not the fine-tune's softplus. keep_bias > 0: the decode favours the tune's own event at every step by
  that much in its logit (the sampler's transfer_keep), in the draw and in the distribution the
  terms read, so the adapter learns where to move against it. mode_weight > 0: the emotion term's
  valence part weighs 1 + mode_weight for the melodies asked to change mode
  (mode_change_weights), where transfer fails most (major tunes asked for minor)."""
  params = with_adapter(vae_params, adapter)
  events, lengths, spb = batch["events"], batch["lengths"], batch["steps_per_bar"]
  batch_size, num_steps = events.shape
  real_BxT = jnp.arange(num_steps)[None] < lengths[:, None]
  kept = {"keep_BxT": events, "keep_bias": jnp.float32(keep_bias)} if keep_bias > 0 else {}
  tune = {"tune_BxT": events} if vae.hp.adapter_tune_steps else {}
  decoded = vae.apply({"params": jax.lax.stop_gradient(params)}, z_BxZ, requested_B, spb,
                      num_steps, jax.random.split(rng, batch_size), temperature=temperature,
                      top_p=top_p if top_p < 1.0 else None, method="generate", **kept, **tune)
  moved_BxT = decoded["events"]
  logits, _ = vae.apply({"params": params}, z_BxZ, requested_B, moved_BxT, spb, grid,
                        method="decode", **tune)
  if keep_bias > 0:  # the distribution the decode drew from (decoder._sample_body's keep)
    logits = logits + keep_bias * jax.nn.one_hot(events, logits.shape[-1], dtype=logits.dtype)
  rows = aux_terms.straight_through_rows(logits, decoded["gumbel"],
                                        jax.nn.one_hot(moved_BxT, logits.shape[-1]), temperature,
                                        top_p, GUMBEL_TEMPERATURE)
  found = feature_consistency.margins(rows, moved_BxT, lengths, spb, thresholds)
  if mode_weight > 0 or margin > 0:
    emotion_term = weighted_emotion_term(
        found, requested_B, mode_change_weights(batch["emotion"], requested_B, mode_weight),
        margin)
  else:  # the shipped recipes' term, the fine-tune's, as their fits computed it
    emotion_term = feature_consistency.consistency_loss(found, requested_B)
  # The tune's own event at every step, read on the transfer's own history: an edit costs its
  # step, and a decode that drifts from the tune after an edit costs every step it drifts.
  nll_B, _ = losses.reconstruction(logits, events, real_BxT)
  keep_term = nll_B.sum() / jnp.maximum(lengths.sum(), 1)
  kept = ((moved_BxT == events) & real_BxT).sum() / jnp.maximum(lengths.sum(), 1)
  agree = (feature_consistency.labels(found) == requested_B).mean()
  loss = emotion_term + keep_weight * keep_term
  return loss, {"loss": loss, "emotion_term": emotion_term, "keep_term": keep_term,
                "steps_kept": kept, "judge_agreement": agree}


def make_train_step(vae, tx, thresholds, *, keep_weight: float, temperature: float, top_p: float,
                    grad_clip_norm: float, margin: float = 0.0, keep_bias: float = 0.0,
                    mode_weight: float = 0.0):
  """(adapter, opt_state, vae_params, batch, rng, grid) -> (adapter, opt_state, metrics)."""

  def train_step(adapter, opt_state, vae_params, batch, rng, grid):
    request_rng, decode_rng = jax.random.split(rng)
    mu, _ = vae.apply({"params": vae_params}, batch["events"], batch["lengths"],
                      batch["steps_per_bar"], grid, method="encode")
    requested = requested_emotions(batch["emotion"], request_rng)
    grads, metrics = jax.grad(
        lambda a: transfer_loss(vae, vae_params, a, batch, jax.lax.stop_gradient(mu), requested,
                                decode_rng, grid, thresholds, keep_weight=keep_weight,
                                temperature=temperature, top_p=top_p, margin=margin,
                                keep_bias=keep_bias, mode_weight=mode_weight),
        has_aux=True)(adapter)
    updates, opt_state = tx.update(step_lib.clip(grads, grad_clip_norm), opt_state, adapter)
    return optax.apply_updates(adapter, updates), opt_state, metrics

  return jax.jit(train_step, static_argnums=(5,))


def _mean(metrics: list[dict]) -> dict | None:
  """Each metric's mean over a list of steps' metrics (None for none)."""
  return {key: float(np.mean([m[key] for m in metrics])) for key in metrics[0]} if metrics else None


def fit(sampler, data: input_pipeline.Data, thresholds, *, steps: int, learning_rate: float,
        keep_weight: float, grad_clip_norm: float, seed: int, margin: float = 0.0, init=None,
        tune_steps: int = 0, mode_weight: float = 0.0, bucket_by_bar: bool = True,
        log=None) -> tuple[dict, dict]:
  """Fits emotion transfer's adapter to the sampler's model (module docstring): (its leaves,
  the fit's report). sampler: a model with the bar adapter, decoding transfers at its
  temperature, top_p and transfer_keep (transfer_loss's keep_bias). margin: transfer_loss's.
  init: the leaves to start from (default the bar adapter's). tune_steps > 0: the adapter also
  reads that many of the tune's steps (with_tune_reading). mode_weight: transfer_loss's.
  bucket_by_bar: batches as training made them (config.train.bucket_by_bar;
  input_pipeline.train_buckets)."""
  log = log or progress.silent
  started = time.monotonic()
  vae = sampler.decoder(tune_steps=tune_steps)
  vae_params = sampler.params["vae"]
  adapter = with_tune_reading(bar_adapter_of(vae_params) if init is None else init, tune_steps)
  adapter = jax.tree.map(jnp.array, adapter)
  tx = optax.adam(learning_rate)
  opt_state = tx.init(adapter)
  train_step = make_train_step(vae, tx, thresholds, keep_weight=keep_weight,
                               temperature=sampler.temperature, top_p=sampler.top_p,
                               grad_clip_norm=grad_clip_norm, margin=margin,
                               keep_bias=sampler.transfer_keep, mode_weight=mode_weight)
  rng = jax.random.key(seed)
  recent, first = [], []
  batches = input_pipeline.endless_batches(
      data.splits["train"], BATCH_SIZE, seed, data.max_bars,
      input_pipeline.train_buckets(data, BATCH_SIZE, bucket_by_bar))
  for step, (batch, bar_width) in zip(range(1, steps + 1), batches):
    batch = {key: jnp.asarray(value) for key, value in batch.items()}
    adapter, opt_state, metrics = train_step(adapter, opt_state, vae_params, batch,
                                             jax.random.fold_in(rng, step - 1),
                                             (data.max_bars, bar_width))
    recent = (recent + [jax.tree.map(float, metrics)])[-50:]
    first = first if len(first) >= 10 else first + recent[-1:]
    if step % 25 == 0 or step == steps:
      mean = _mean(recent)
      log(f"transfer adapter: step {step}/{steps}, loss {mean['loss']:.4f}, judge "
          f"{mean['judge_agreement']:.3f}, kept {mean['steps_kept']:.3f}, keep term "
          f"{mean['keep_term']:.3f}")
  report = {"steps": int(steps), "learning_rate": float(learning_rate),
            "keep_weight": float(keep_weight), "margin": float(margin),
            "tune_steps": int(tune_steps), "mode_weight": float(mode_weight),
            "batch_size": BATCH_SIZE, "bucket_by_bar": bool(bucket_by_bar),
            "temperature": float(sampler.temperature), "top_p": float(sampler.top_p),
            "transfer_keep": float(sampler.transfer_keep),
            "train_first_10_steps": _mean(first), "train_last_10_steps": _mean(recent[-10:]),
            "train_last_50_steps": _mean(recent),
            "seconds": round(time.monotonic() - started, 1)}
  return jax.tree.map(np.asarray, adapter), report
