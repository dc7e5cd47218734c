"""The emotion classifier E, fitted to the judge on the model's own samples, after training.

With the features emotion term (feature_consistency.py) the generator never reads E: E is a
second opinion that the evaluation reports beside the independent judge (the data's feature
labeller), and the classifier the paper's variant of the term uses. Trained on real melodies
only, E is a weak judge of generated ones: on the Nottingham fine-tune it agreed with the
request 0.21 less often than the judge did. During the fine-tune it also learns the judge's
labels of the step's samples (loss.classifier_on_samples); this module finishes that job for a
trained model, as latent_prior.py does for the prior: it samples a pool of melodies from the
model's own prior (every emotion equally, the sampler's settings), labels each with the judge,
and trains E on batches that are half real training windows (their labels) and half pool
melodies (the judge's labels), so that "E agrees with the request" means what the judge means.
Melodies sampled with another seed measure it (held out from the fit).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax

from hrnnvae import judge, losses, progress
from hrnnvae.data import emotion as emotion_lib
from hrnnvae.data import sources as sources_lib
from hrnnvae.sample import Sampler

POOL_BARS = 16  # bars of each pool melody (the Nottingham models' max_bars)


def judged_samples(sampler: Sampler, per_emotion: int, bars: int, temperature: float, seed: int,
                   thresholds: emotion_lib.ArousalThresholds, chunk: int = 512):
  """(events [N, T], requested [N], the judge's labels [N]) of N = 4 * per_emotion prior samples,
  plain (one candidate: the model's own distribution, which its realism critic only reweights)."""
  requested = np.repeat(np.arange(sampler.hp.num_emotions), per_emotion)
  events = []
  for start in range(0, len(requested), chunk):
    batch = requested[start:start + chunk].tolist()
    events += [m.events for m in sampler.sample(batch, bars, seed * 1_000_003 + start, temperature,
                                                candidates=1)]
  events = np.stack(events)
  return events, requested, judge.labels(list(events), sampler.steps_per_bar, thresholds)


def agreement(sampler: Sampler, emotion_params, events, labels) -> float:
  """The share of melodies whose E verdict (argmax) is `labels`."""
  verdicts = [np.asarray(sampler._classify(emotion_params, jnp.asarray(events[i:i + 512])))
              for i in range(0, len(events), 512)]
  return float((np.concatenate(verdicts).argmax(-1) == labels).mean())


def fit(sampler: Sampler, arrays, thresholds: emotion_lib.ArousalThresholds, *,
        per_emotion: int, steps: int, seed: int, bars: int = POOL_BARS,
        temperature: float | None = None, batch_size: int = 64, learning_rate: float = 1e-3,
        log=progress.silent):
  """(E's new parameters, a report): E trained from its current parameters (module docstring);
  the pool sampled at `temperature` (None: the model's own, Sampler.temperature)."""
  temperature = sampler.temperature if temperature is None else float(temperature)
  pool, pool_requested, pool_judged = judged_samples(sampler, per_emotion, bars, temperature,
                                                     seed, thresholds)
  held_out, held_requested, held_judged = judged_samples(
      sampler, max(per_emotion // 4, 16), bars, temperature, seed + 1, thresholds)
  log(f"{len(pool)} pool melodies, the judge agreeing with the request on "
      f"{(pool_judged == pool_requested).mean():.3f}")
  train = np.nonzero(arrays["split"] == sources_lib.SPLITS.index("train"))[0]
  real_events, real_lengths = arrays["events"][train], arrays["lengths"][train]
  real_labels = arrays["emotion"][train].astype(np.int32)
  classifier, num_classes = sampler.classifier, sampler.hp.num_classes
  tx = optax.adam(learning_rate)

  def loss_fn(params, events_BxT, mask_BxT, labels_B):
    logits = classifier.apply({"params": params}, jax.nn.one_hot(events_BxT, num_classes),
                              mask_BxT)
    return losses.classification(logits, labels_B)

  @functools.partial(jax.jit, donate_argnums=(0, 1))
  def step(params, opt_state, real, fake):
    def total(p):
      real_loss, _ = loss_fn(p, *real)
      fake_loss, _ = loss_fn(p, *fake)
      return 0.5 * (real_loss + fake_loss)
    loss, grads = jax.value_and_grad(total)(params)
    updates, opt_state = tx.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state, loss

  before = agreement(sampler, sampler.params["emotion"], held_out, held_judged)
  params = jax.tree.map(jnp.array, sampler.params["emotion"])  # a copy: the sampler's stays
  opt_state = tx.init(params)
  rng = np.random.default_rng(seed)
  half = batch_size // 2
  fake_mask = jnp.ones((half, pool.shape[1]), bool)
  history = []
  for index in range(steps):
    real_rows = rng.integers(0, len(train), half)
    pool_rows = rng.integers(0, len(pool), half)
    real_mask = np.arange(real_events.shape[1])[None] < real_lengths[real_rows][:, None]
    params, opt_state, loss = step(
        params, opt_state,
        (jnp.asarray(real_events[real_rows]), jnp.asarray(real_mask),
         jnp.asarray(real_labels[real_rows])),
        (jnp.asarray(pool[pool_rows]), fake_mask, jnp.asarray(pool_judged[pool_rows])))
    history.append(float(loss))
    if (index + 1) % max(steps // 5, 1) == 0:
      log(f"step {index + 1}/{steps}: loss {np.mean(history[-50:]):.4f}")
  after = agreement(sampler, params, held_out, held_judged)
  report = {"pool_melodies": int(len(pool)), "held_out_melodies": int(len(held_out)),
            "bars": bars, "temperature": temperature, "steps": steps, "seed": seed,
            "emotion_guidance": sampler.emotion_guidance,
            "held_out_agreement_with_judge_before": before,
            "held_out_agreement_with_judge_after": after,
            "held_out_judge_agreement_with_request": float((held_judged == held_requested).mean()),
            "first_loss": float(np.mean(history[:20])), "last_loss": float(np.mean(history[-20:]))}
  log(f"E agrees with the judge on held-out samples: {before:.3f} before, {after:.3f} after")
  return params, report
