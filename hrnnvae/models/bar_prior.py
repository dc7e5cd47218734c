"""A learned prior over the per-bar latents: p(bar n's latent | z, emotion, bars 0..n-1's latents).

Why (issue 19 (f)): with one Gaussian per emotion over all 16 bars' latents, samples never repeat
a bar (bar repetition 0.00 against the tunes' 0.36): a Gaussian cannot say "bar 5 is bar 1
again". This prior reads the bars before it, so a tune can restate an earlier bar's latent.

Bar by bar (VRNN's conditional prior, with a copy path):
  h_n = tanh RNN over [the bar's place in its phrase and period, bar n-1's latent], started from
        tanh(Dense([z, emotion]));
  copy_n = attention of h_n over the latents of bars 0..n-1 (scaled dot product);
  g_n = sigmoid(Dense(h_n)) (0 at bar 0, which has nothing to copy);
  mu_n = (1 - g_n) Dense(h_n) + g_n copy_n;  log sigma_n^2 = Dense(h_n).
With g_n near 1 and a small sigma, bar n is bar k again.

Two drivers share the step (both unrolled over the N bars, 16 in the presets):
`__call__` scores given latents (training: the KL of the posterior against it, all bars'
parameters from the posterior's latents); `draw` samples bar after bar from noise (the
sampler). Tests check that `draw`'s latents, scored by `__call__`, give back the noise:
latent = mu + sigma * noise.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from hrnnvae.models import bars as bars_lib
from hrnnvae.models.cells import TanhRNNCell
from hrnnvae.models.hparams import ModelHParams


class BarLatentPrior(nn.Module):
  hp: ModelHParams

  def setup(self):
    hp = self.hp
    self.start = nn.Dense(hp.conductor_dim, name="start")
    self.cell = TanhRNNCell(hp.conductor_dim, name="cell")
    self.query = nn.Dense(hp.attention_dim, use_bias=False, name="query")
    self.key = nn.Dense(hp.attention_dim, use_bias=False, name="key")
    self.gate = nn.Dense(1, name="gate")
    self.mu = nn.Dense(hp.bar_latent_dim, name="mu")
    self.log_var = nn.Dense(hp.bar_latent_dim, kernel_init=nn.initializers.zeros, name="log_var")

  def _start(self, z_BxZ, emotion_BxE):
    return jnp.tanh(self.start(jnp.concatenate([z_BxZ, emotion_BxE], axis=-1)))

  def _inputs(self, bar_n, previous_BxZb):
    features = jnp.broadcast_to(bars_lib.bar_features(bar_n, previous_BxZb.dtype),
                                previous_BxZb.shape[:-1] + (bars_lib.BAR_FEATURE_DIM,))
    return jnp.concatenate([features, previous_BxZb], axis=-1)

  def _params(self, h_BxQxH, earlier_BxKxZb, visible_QxK, first_Q):
    """(mu, log_var) [B, Q, Zb] of bars whose states are h, each reading the earlier latents
    it may see (visible_QxK); first_Q marks bar 0 (no copy)."""
    scale = self.hp.attention_dim ** -0.5
    scores = jnp.einsum("bqa,bka->bqk", self.query(h_BxQxH), self.key(earlier_BxKxZb)) * scale
    scores = jnp.where(visible_QxK[None], scores, -1e9)
    copy_BxQxZb = jnp.einsum("bqk,bkz->bqz", jax.nn.softmax(scores, axis=-1), earlier_BxKxZb)
    gate_BxQx1 = jnp.where(first_Q[None, :, None], 0.0, jax.nn.sigmoid(self.gate(h_BxQxH)))
    mu = (1.0 - gate_BxQx1) * self.mu(h_BxQxH) + gate_BxQx1 * copy_BxQxZb
    return mu, self.log_var(h_BxQxH)

  def __call__(self, z_BxZ, emotion_BxE, bar_latents_BxNxZb):
    """The prior's (mu, log_var) [B, N, Zb] for each bar, given the bars' latents."""
    num_bars = bar_latents_BxNxZb.shape[1]
    h_BxH, states = self._start(z_BxZ, emotion_BxE), []
    previous_BxZb = jnp.zeros_like(bar_latents_BxNxZb[:, 0])
    for bar in range(num_bars):  # N is small (16): unrolled
      h_BxH = self.cell(h_BxH, self._inputs(jnp.asarray(bar), previous_BxZb))
      states.append(h_BxH)
      previous_BxZb = bar_latents_BxNxZb[:, bar]
    bar_N = jnp.arange(num_bars)
    return self._params(jnp.stack(states, axis=1), bar_latents_BxNxZb,
                        bar_N[None, :] < bar_N[:, None], bar_N == 0)

  def draw(self, z_BxZ, emotion_BxE, noise_BxNxZb):
    """Bar latents [B, N, Zb] drawn bar by bar: latent_n = mu_n + sigma_n * noise_n."""
    num_bars = noise_BxNxZb.shape[1]
    h_BxH = self._start(z_BxZ, emotion_BxE)
    drawn_BxNxZb = jnp.zeros_like(noise_BxNxZb)
    previous_BxZb = jnp.zeros_like(noise_BxNxZb[:, 0])
    for bar in range(num_bars):
      h_BxH = self.cell(h_BxH, self._inputs(jnp.asarray(bar), previous_BxZb))
      mu, log_var = self._params(h_BxH[:, None], drawn_BxNxZb,
                                 (jnp.arange(num_bars) < bar)[None], jnp.asarray([bar == 0]))
      previous_BxZb = mu[:, 0] + jnp.exp(0.5 * log_var[:, 0]) * noise_BxNxZb[:, bar]
      drawn_BxNxZb = drawn_BxNxZb.at[:, bar].set(previous_BxZb)
    return drawn_BxNxZb


def kl_between_gaussians(mu_q, log_var_q, mu_p, log_var_p):
  """KL(N(mu_q, e^log_var_q) || N(mu_p, e^log_var_p)), summed over the last axis."""
  return 0.5 * jnp.sum(log_var_p - log_var_q
                       + (jnp.exp(log_var_q) + (mu_q - mu_p) ** 2) * jnp.exp(-log_var_p) - 1.0,
                       axis=-1)
