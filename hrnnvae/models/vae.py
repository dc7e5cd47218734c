"""The hierarchical RNN-VAE: encoder -> (mu, log sigma^2) (Eq. 5) -> z (Eq. 6) -> decoder (Eq. 7)."""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from hrnnvae import losses
from hrnnvae.models import bar_prior as bar_prior_lib
from hrnnvae.models.decoder import Decoder
from hrnnvae.models.encoder import BarEncoder, Encoder
from hrnnvae.models.hparams import ModelHParams


class HierarchicalVAE(nn.Module):
  hp: ModelHParams

  def setup(self):
    hp = self.hp
    encoder = BarEncoder if hp.encoder == "bar_bidirectional" else Encoder
    self.encoder = encoder(hp, name="encoder")
    self.mu = nn.Dense(hp.latent_dim, name="mu")  # g_mu
    if hp.use_vae:
      self.log_var = nn.Dense(hp.latent_dim, name="log_var")  # g_sigma
    if hp.bar_latent_dim:  # each bar's latent, from that bar's own summary
      self.bar_mu = nn.Dense(hp.bar_latent_dim, name="bar_mu")
      if hp.use_vae:
        self.bar_log_var = nn.Dense(hp.bar_latent_dim, name="bar_log_var")
    if hp.learned_bar_prior:
      self.bar_prior = bar_prior_lib.BarLatentPrior(hp, name="bar_prior")
    self.emotion_embed = nn.Embed(hp.num_emotions, hp.emotion_dim, name="emotion_embed")
    self.decoder = Decoder(hp, name="decoder")

  def encode(self, events_BxT, lengths_B, steps_per_bar_B, grid=None):
    """(mu [B, Z], log_var [B, Z]); log_var is None without the VAE (a deterministic latent).

    grid: the bar grid (N, S) when the caller knows its melodies' shape (models/bars.py).
    With per-bar latents (model.bar_latent_dim) both are [B, hp.latent_size]: z's, then each
    bar's; a bar the melody does not reach gets the prior's N(0, I) (mu 0, log_var 0, no KL)."""
    hp = self.hp
    if not hp.bar_latent_dim:
      h_BxH = self.encoder(events_BxT, lengths_B, steps_per_bar_B, grid)
      return self.mu(h_BxH), (self.log_var(h_BxH) if hp.use_vae else None)
    h_BxH, bar_summary_BxNxH, real_bars_BxN = self.encoder(events_BxT, lengths_B, steps_per_bar_B,
                                                           grid, with_bars=True)
    slots, batch = hp.bar_latent_slots, events_BxT.shape[0]
    bars = bar_summary_BxNxH.shape[1]
    if bars < slots:  # a short grid: the missing bars are empty
      bar_summary_BxNxH = jnp.pad(bar_summary_BxNxH, ((0, 0), (0, slots - bars), (0, 0)))
      real_bars_BxN = jnp.pad(real_bars_BxN, ((0, 0), (0, slots - bars)))
    bar_summary_BxNxH, real_bars_BxNx1 = bar_summary_BxNxH[:, :slots], real_bars_BxN[:, :slots, None]
    bar_mu = jnp.where(real_bars_BxNx1, self.bar_mu(bar_summary_BxNxH), 0.0).reshape(batch, -1)
    mu = jnp.concatenate([self.mu(h_BxH), bar_mu.astype(h_BxH.dtype)], axis=-1)
    if not hp.use_vae:
      return mu, None
    bar_log_var = jnp.where(real_bars_BxNx1, self.bar_log_var(bar_summary_BxNxH), 0.0)
    return mu, jnp.concatenate([self.log_var(h_BxH),
                                bar_log_var.reshape(batch, -1).astype(h_BxH.dtype)], axis=-1)

  def reconstruct(self, events_BxT, lengths_B, steps_per_bar_B, emotion_B, rng, grid=None,
                  drop_bar_latents=False, first_bar_B=None):
    """Teacher-forced decode of each melody's own z: logits [B, T, V], alpha, mu, log_var, z
    (latents [B, hp.latent_size]), kl [B].

    drop_bar_latents: training only. With model.bar_latent_dropout, that share of the melodies
    decode from z alone (their bars' latents zero, as in a prior sample) and pay z's KL alone."""
    hp = self.hp
    mu, log_var = self.encode(events_BxT, lengths_B, steps_per_bar_B, grid)
    drop_rng = jax.random.fold_in(rng, 1)
    rng = jax.random.split(rng)[0]  # as when word dropout took the second key: same seeds, same runs
    if hp.use_vae:
      z = mu + jnp.exp(0.5 * log_var) * jax.random.normal(rng, mu.shape, mu.dtype)  # Eq. 6
    else:
      z = mu
    kept_B = None
    if drop_bar_latents and hp.prior_drops_bar_latents:
      kept_B = jax.random.bernoulli(drop_rng, 1.0 - hp.bar_latent_dropout, z.shape[:1])
      z = jnp.where(kept_B[:, None], z, hp.without_bar_latents(z))
    logits, alpha = self.decode(z, emotion_B, events_BxT, steps_per_bar_B, grid, first_bar_B)
    if not hp.use_vae:
      kl = jnp.zeros(z.shape[:1], z.dtype)
    elif kept_B is not None:  # the dropped bars' latents were not used: no KL for them
      (mu_z, bar_mu), (log_var_z, bar_log_var) = hp.split_latents(mu), hp.split_latents(log_var)
      kl = losses.kl_to_standard_normal(mu_z, log_var_z) + jnp.where(
          kept_B, losses.kl_to_standard_normal(bar_mu, bar_log_var).sum(-1), 0.0)
    else:
      kl = self.latent_kl(mu, log_var, z, emotion_B, lengths_B, steps_per_bar_B)
    return {"logits": logits, "alpha": alpha, "mu": mu, "log_var": log_var, "z": z, "kl": kl}

  def latent_kl(self, mu, log_var, z, emotion_B, lengths_B, steps_per_bar_B):
    """KL(q(latents | melody) || prior) [B], nats. z's prior is N(0, I); the bars' is N(0, I)
    too (a bar past the melody's end costs nothing: its posterior is the prior) or the learned
    one (bar_prior.py), scored at the posterior sample z of the earlier bars, over the bars the
    melody holds."""
    hp = self.hp
    if not hp.learned_bar_prior:
      return losses.kl_to_standard_normal(mu, log_var)
    (mu_z, bar_mu), (log_var_z, bar_log_var) = hp.split_latents(mu), hp.split_latents(log_var)
    z_BxZ, bar_latents = hp.split_latents(z)
    bar_kl = self.bar_prior.kl(z_BxZ, self.emotion_embed(emotion_B), bar_latents, bar_mu,
                               bar_log_var)
    bars_held_B = -(-lengths_B // jnp.maximum(steps_per_bar_B, 1))
    held_BxN = jnp.arange(hp.bar_latent_slots)[None, :] < bars_held_B[:, None]
    return losses.kl_to_standard_normal(mu_z, log_var_z) + jnp.where(held_BxN, bar_kl, 0.0).sum(-1)

  def log_prior(self, latents_BxL, emotion_B):
    """log p(latents) [B] under the training prior (the importance-sampled likelihood's)."""
    hp = self.hp
    standard = -0.5 * (latents_BxL ** 2 + jnp.log(2 * jnp.pi))
    if not hp.learned_bar_prior:
      return standard.sum(-1)
    z_BxZ, bar_latents = hp.split_latents(latents_BxL)
    bars = self.bar_prior.log_prob(z_BxZ, self.emotion_embed(emotion_B), bar_latents)
    return standard[:, :hp.latent_dim].sum(-1) + bars.sum(-1)

  def prior_latents(self, latents_BxL, emotion_B):
    """A whole latent [B, latent_size] from z followed by noise for the bars' latents: as given
    (their prior is N(0, I)), zero (model.bar_latent_dropout: z alone) or with the bars drawn
    one by one from the learned prior."""
    if self.hp.prior_drops_bar_latents:
      return self.hp.without_bar_latents(latents_BxL)
    if not self.hp.learned_bar_prior:
      return latents_BxL
    z_BxZ, bar_noise_BxNxZb = self.hp.split_latents(latents_BxL)
    bars = self.bar_prior.draw(z_BxZ, self.emotion_embed(emotion_B), bar_noise_BxNxZb)
    return jnp.concatenate([z_BxZ, bars.reshape(z_BxZ.shape[0], -1)], axis=-1)

  def decode(self, z_BxZ, emotion_B, events_BxT, steps_per_bar_B, grid=None, first_bar_B=None,
             tune_BxT=None):
    """Teacher-forced decode of given events from given latents: (logits [B, T, V], alpha).
    first_bar_B: where each window starts in its tune (model.tune_bar_positions; None: bar 0).
    tune_BxT: the tune a tune-reading adapter reads (model.adapter_tune_steps)."""
    return self.decoder.teacher_forced(z_BxZ, self.emotion_embed(emotion_B), events_BxT,
                                       steps_per_bar_B, grid, first_bar_B, tune_BxT)

  def generate(self, z_BxZ, emotion_B, steps_per_bar_B, num_steps: int, keys_B, temperature=1.0,
               guidance=None, top_p=None, repeat_penalty=None, short_note_penalty=None,
               section_bars: int = 0, keep_BxT=None, keep_bias=None, first_bar_B=None,
               tune_BxT=None):
    """Free-running decode from given latents, one key per melody:
    {'events' [B, T], 'logits', 'gumbel' [B, T, V]}.

    section_bars > 0: z_BxZ is [B, S, Z], a latent for each section of that many bars
    (decoder.Decoder.free_running).

    guidance: None, or the emotion guidance scale (decoder.guided_logits) against the neutral
    emotion, the mean of the emotion embeddings. top_p: None, or nucleus sampling
    (nucleus.nucleus_logits). repeat_penalty: None, or r, the repeat penalty
    (nucleus.repeat_penalized). short_note_penalty: None, or s, the short-note penalty
    (nucleus.short_note_penalized). keep_BxT, keep_bias: None, or the events each step favours
    by keep_bias (emotion transfer's fidelity to the tune; decoder.Decoder.free_running).
    first_bar_B: None, or where each melody starts in its tune (model.tune_bar_positions).
    tune_BxT: None, or the tune a tune-reading adapter reads (model.adapter_tune_steps)."""
    neutral = None
    if guidance is not None:
      neutral = jnp.broadcast_to(self.emotion_embed.embedding.mean(0),
                                 (z_BxZ.shape[0], self.hp.emotion_dim)).astype(z_BxZ.dtype)
    return self.decoder.free_running(z_BxZ, self.emotion_embed(emotion_B), steps_per_bar_B,
                                     num_steps, keys_B, temperature, neutral, guidance, top_p,
                                     repeat_penalty, short_note_penalty, section_bars, keep_BxT,
                                     keep_bias, first_bar_B, tune_BxT)

  def __call__(self, events_BxT, lengths_B, steps_per_bar_B, emotion_B, rng, grid=None):
    return self.reconstruct(events_BxT, lengths_B, steps_per_bar_B, emotion_B, rng, grid)
