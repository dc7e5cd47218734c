"""Likelihood metrics of a trained VAE on held-out melodies (pure, jittable).

For melody x with real steps T_x:
  teacher-forced accuracy = share of real steps whose argmax prediction is the true event (z = mu);
  cross-entropy per step  = -log p(x | z = mu) / T_x, nats;
  ELBO                    = E_q[log p(x|z)] - KL(q(z|x) || p(z)), one z sample, nats per melody;
  importance-sampled NLL  = -log (1/K sum_k p(x|z_k) p(z_k) / q(z_k|x)), z_k ~ q(z|x), nats per
                            melody (Burda et al.'s bound: at least as tight as -ELBO, equal at K=1).
Latent use (each melody decoded teacher-forced, with its own emotion, from another z):
  log p(x | z = shuffled) = log p(x | z = mu of the previous melody in the batch), mu rolled by
                            one along the batch (callers order a batch so neighbours are unrelated);
  log p(x | z = prior)    = log p(x | z), one z ~ N(0, I) per melody.
  The latent gap, cross-entropy per step at shuffled z minus at z = mu (nats), is what the decoder
  takes from its own melody's latent; near 0 the decoder ignores z. A model with no latent
  distribution (log_var None) reports both equal to log p(x | mu).
Pitch that z carries (teacher-forced, at the steps where the melody starts a note):
  onset pitch correct = the most likely of the 88 pitch events (hold and note-off left out) is the
                        melody's pitch, counted at z = mu and at the shuffled z. Rhythm cannot earn
                        it; what z adds over the notes before is the difference of the two.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.scipy.special import logsumexp
from jax.scipy.stats import norm

from hrnnvae import losses
from hrnnvae.data import events as events_lib


def _log_likelihood(vae, params, z_BxZ, batch, mask_BxT):
  """(log p(x|z) [B], correct steps [B], correct onset pitches [B]); a batch's start_bar (where
  each window starts in its tune) reaches a model with model.tune_bar_positions."""
  logits, _ = vae.apply({"params": params}, z_BxZ, batch["emotion"], batch["events"],
                        batch["steps_per_bar"], first_bar_B=batch.get("start_bar"),
                        method="decode")
  nll_B, correct_B = losses.reconstruction(logits, batch["events"], mask_BxT)
  return -nll_B, correct_B, _onset_pitch_correct(logits, batch["events"], mask_BxT)


def _onset_steps(events_BxT, mask_BxT):
  return mask_BxT & (events_BxT >= events_lib.FIRST_PITCH_EVENT)


def _onset_pitch_correct(logits_BxTxV, events_BxT, mask_BxT):
  """Per melody: onsets whose most likely pitch event (among pitches only) is the true one."""
  pitch_B_T = jnp.argmax(logits_BxTxV[..., events_lib.FIRST_PITCH_EVENT:], axis=-1)
  right = pitch_B_T + events_lib.FIRST_PITCH_EVENT == events_BxT
  return (right & _onset_steps(events_BxT, mask_BxT)).sum(axis=1)


def _prior_draw(vae, params, rng, shape, emotion_B):
  """Whole latents drawn from the training prior (the bars' latents from the learned prior)."""
  noise = jax.random.normal(rng, shape)
  if not vae.hp.learned_bar_prior:
    return noise
  return vae.apply({"params": params}, noise, emotion_B, method="prior_latents")


def likelihood_sums(vae, params, batch, rng, num_importance_samples: int = 16):
  """Per-melody [B]: log p(x|mu), correct steps, real steps, ELBO, importance-sampled log p(x),
  log p(x) at shuffled z and at a prior z."""
  mask = jnp.arange(batch["events"].shape[1])[None, :] < batch["lengths"][:, None]
  mu, log_var = vae.apply({"params": params}, batch["events"], batch["lengths"],
                          batch["steps_per_bar"], method="encode")
  log_px_mu, correct, onset_pitch_mu = _log_likelihood(vae, params, mu, batch, mask)
  log_px_shuffled, _, onset_pitch_shuffled = _log_likelihood(vae, params, jnp.roll(mu, 1, axis=0),
                                                             batch, mask)
  importance_rng, prior_rng = jax.random.split(rng)
  sigma = jnp.exp(0.5 * log_var)
  eps_KxBxZ = jax.random.normal(importance_rng, (num_importance_samples,) + mu.shape)
  z_KxBxZ = mu + sigma * eps_KxBxZ
  log_px_KxB = jax.lax.map(lambda z: _log_likelihood(vae, params, z, batch, mask)[0], z_KxBxZ)
  learned = vae.hp.learned_bar_prior  # the bars' latents under their learned prior, not N(0, I)
  if learned:
    log_prior = lambda z: vae.apply({"params": params}, z, batch["emotion"], method="log_prior")
    log_prior_KxB = jax.lax.map(log_prior, z_KxBxZ)
  else:
    log_prior_KxB = norm.logpdf(z_KxBxZ).sum(-1)
  log_posterior_KxB = norm.logpdf(z_KxBxZ, mu, sigma).sum(-1)
  log_weights_KxB = log_px_KxB + log_prior_KxB - log_posterior_KxB
  return {
      "log_px_at_mu": log_px_mu, "correct": correct, "steps": mask.sum(axis=1),
      "elbo": log_px_KxB[0] - (
          vae.apply({"params": params}, mu, log_var, z_KxBxZ[0], batch["emotion"], batch["lengths"],
                    batch["steps_per_bar"], method="latent_kl") if learned
          else losses.kl_to_standard_normal(mu, log_var)),
      "importance_log_px": logsumexp(log_weights_KxB, axis=0) - jnp.log(num_importance_samples),
      "log_px_at_shuffled": log_px_shuffled,
      "log_px_at_prior": _log_likelihood(vae, params, _prior_draw(vae, params, prior_rng, mu.shape,
                                                                  batch["emotion"]), batch, mask)[0],
      "onsets": _onset_steps(batch["events"], mask).sum(axis=1),
      "onset_pitch_correct_at_mu": onset_pitch_mu,
      "onset_pitch_correct_at_shuffled": onset_pitch_shuffled,
  }


def deterministic_sums(model, params, batch):
  """The same sums for a model without a latent distribution (z = mu is all there is): the ELBO,
  the importance-sampled log p(x) and log p(x) at shuffled and prior z all reduce to
  log p(x | mu)."""
  mask = jnp.arange(batch["events"].shape[1])[None, :] < batch["lengths"][:, None]
  mu, _ = model.apply({"params": params}, batch["events"], batch["lengths"],
                      batch["steps_per_bar"], method="encode")
  log_px, correct, onset_pitch = _log_likelihood(model, params, mu, batch, mask)
  return {"log_px_at_mu": log_px, "correct": correct, "steps": mask.sum(axis=1), "elbo": log_px,
          "importance_log_px": log_px, "log_px_at_shuffled": log_px, "log_px_at_prior": log_px,
          "onsets": _onset_steps(batch["events"], mask).sum(axis=1),
          "onset_pitch_correct_at_mu": onset_pitch, "onset_pitch_correct_at_shuffled": onset_pitch}
