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

The copy mixture (model.bar_latent_prior="copy_mixture"; issue 19 (g)). One Gaussian must
hedge between "bar k again" and "a new bar": at step 6000 the learned prior's mean sat 3.0 from a
restating bar's posterior mean (4.8 from a new bar's) although identical bars' posterior means lie
0.1 apart, so its draws seldom restate a bar exactly. The mixture makes the choice discrete:
  p(bar n) = (1 - g_n) N(Dense(h_n), sigma_n^2) + g_n sum_k a_nk N(bar k's latent, s^2),
with a_n the attention over bars 0..n-1 and s^2 one learned variance per dimension. Training
pays an upper bound on the KL to the mixture, -log sum_c w_c exp(-KL(q || p_c)) (Jensen with
the best weights; exact when one component holds all the weight), so the bound stays a bound;
the likelihood scores the mixture's exact density; a draw picks the component with the uniform
Phi(noise_0) and reuses where it fell inside the component's share as a fresh N(0, 1) for
dimension 0, so one Gaussian noise vector a bar still makes an exact draw.

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
from jax.scipy.special import ndtr, ndtri
from jax.scipy.stats import norm

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
    if self.mixture:  # the copies' variance: about the posterior's at the start (sigma 0.37)
      self.copy_log_var = self.param("copy_log_var", nn.initializers.constant(-2.0),
                                     (hp.bar_latent_dim,))

  @property
  def mixture(self) -> bool:
    return self.hp.bar_latent_prior == "copy_mixture"

  def _start(self, z_BxZ, emotion_BxE):
    return jnp.tanh(self.start(jnp.concatenate([z_BxZ, emotion_BxE], axis=-1)))

  def _inputs(self, bar_n, previous_BxZb):
    features = jnp.broadcast_to(bars_lib.bar_features(bar_n, previous_BxZb.dtype),
                                previous_BxZb.shape[:-1] + (bars_lib.BAR_FEATURE_DIM,))
    return jnp.concatenate([features, previous_BxZb], axis=-1)

  def _params(self, h_BxQxH, earlier_BxKxZb, visible_QxK, first_Q) -> dict:
    """The prior of bars whose states are h, each reading the earlier latents it may see
    (visible_QxK; first_Q marks bar 0, which has nothing to copy): {'mu', 'log_var'} [B, Q, Zb]
    (the Gaussian's, or the mixture's new-bar component), and for the mixture 'log_weights'
    [B, Q, 1 + K] (the new bar, then a copy of each earlier bar), 'copies' [B, K, Zb] and
    'copy_log_var' [Zb]."""
    scale = self.hp.attention_dim ** -0.5
    scores = jnp.einsum("bqa,bka->bqk", self.query(h_BxQxH), self.key(earlier_BxKxZb)) * scale
    scores = jnp.where(visible_QxK[None], scores, -1e9)
    gate_logit_BxQx1 = self.gate(h_BxQxH)
    if self.mixture:
      copy_weights = jnp.where(first_Q[None, :, None], -1e9,
                               jax.nn.log_sigmoid(gate_logit_BxQx1)
                               + jax.nn.log_softmax(scores, axis=-1))
      new_weight = jnp.where(first_Q[None, :, None], 0.0, jax.nn.log_sigmoid(-gate_logit_BxQx1))
      return {"mu": self.mu(h_BxQxH), "log_var": self.log_var(h_BxQxH),
              "log_weights": jnp.concatenate([new_weight, copy_weights], axis=-1),
              "copies": earlier_BxKxZb, "copy_log_var": self.copy_log_var}
    copy_BxQxZb = jnp.einsum("bqk,bkz->bqz", jax.nn.softmax(scores, axis=-1), earlier_BxKxZb)
    gate_BxQx1 = jnp.where(first_Q[None, :, None], 0.0, jax.nn.sigmoid(gate_logit_BxQx1))
    mu = (1.0 - gate_BxQx1) * self.mu(h_BxQxH) + gate_BxQx1 * copy_BxQxZb
    return {"mu": mu, "log_var": self.log_var(h_BxQxH)}

  def __call__(self, z_BxZ, emotion_BxE, bar_latents_BxNxZb) -> dict:
    """The prior of each bar given the bars' latents (_params' dict, Q = K = N)."""
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

  def kl(self, z_BxZ, emotion_BxE, bar_latents_BxNxZb, mu_BxNxZb, log_var_BxNxZb):
    """[B, N] KL(q(bar n) || its prior) in nats, the prior read at the given (sampled) latents
    of the earlier bars; for the mixture, the upper bound of the module docstring."""
    prior = self(z_BxZ, emotion_BxE, bar_latents_BxNxZb)
    new = kl_between_gaussians(mu_BxNxZb, log_var_BxNxZb, prior["mu"], prior["log_var"])
    if not self.mixture:
      return new
    copies = kl_between_gaussians(mu_BxNxZb[:, :, None], log_var_BxNxZb[:, :, None],
                                  prior["copies"][:, None], prior["copy_log_var"])  # [B, N, K]
    per_component = jnp.concatenate([new[..., None], copies], axis=-1)
    return -jax.nn.logsumexp(prior["log_weights"] - per_component, axis=-1)

  def log_prob(self, z_BxZ, emotion_BxE, bar_latents_BxNxZb):
    """[B, N] log p(bar n's latent | z, emotion, the earlier bars' latents), nats."""
    prior = self(z_BxZ, emotion_BxE, bar_latents_BxNxZb)
    new = gaussian_log_prob(bar_latents_BxNxZb, prior["mu"], prior["log_var"])
    if not self.mixture:
      return new
    copies = gaussian_log_prob(bar_latents_BxNxZb[:, :, None], prior["copies"][:, None],
                               prior["copy_log_var"])  # [B, N, K]
    per_component = jnp.concatenate([new[..., None], copies], axis=-1)
    return jax.nn.logsumexp(prior["log_weights"] + per_component, axis=-1)

  def draw(self, z_BxZ, emotion_BxE, noise_BxNxZb):
    """Bar latents [B, N, Zb] drawn bar by bar from N(0, I) noise: latent_n = mu_n + sigma_n *
    noise_n (the Gaussian); for the mixture, from the component Phi(noise_n0) picks."""
    num_bars = noise_BxNxZb.shape[1]
    h_BxH = self._start(z_BxZ, emotion_BxE)
    drawn_BxNxZb = jnp.zeros_like(noise_BxNxZb)
    previous_BxZb = jnp.zeros_like(noise_BxNxZb[:, 0])
    for bar in range(num_bars):
      h_BxH = self.cell(h_BxH, self._inputs(jnp.asarray(bar), previous_BxZb))
      prior = self._params(h_BxH[:, None], drawn_BxNxZb, (jnp.arange(num_bars) < bar)[None],
                           jnp.asarray([bar == 0]))
      mu, log_var, noise_BxZb = prior["mu"][:, 0], prior["log_var"][:, 0], noise_BxNxZb[:, bar]
      if self.mixture:
        mu, log_var, noise_BxZb = _pick_component(prior, mu, log_var, noise_BxZb)
      previous_BxZb = mu + jnp.exp(0.5 * log_var) * noise_BxZb
      drawn_BxNxZb = drawn_BxNxZb.at[:, bar].set(previous_BxZb)
    return drawn_BxNxZb


def _pick_component(prior: dict, mu_BxZb, log_var_BxZb, noise_BxZb):
  """(mean, log variance, noise) of one bar's mixture draw: u = Phi(noise_0) picks component c
  (its share of [0, 1) by the weights); where u fell inside that share is again uniform and
  independent of c, so Phi^-1 of it replaces noise_0."""
  weights_BxC = jax.nn.softmax(prior["log_weights"][:, 0], axis=-1)
  upper_BxC = jnp.cumsum(weights_BxC, axis=-1)
  u_B = ndtr(noise_BxZb[:, 0])
  component_B = jnp.minimum((u_B[:, None] >= upper_BxC).sum(-1), weights_BxC.shape[-1] - 1)
  share_B = jnp.take_along_axis(weights_BxC, component_B[:, None], axis=-1)[:, 0]
  lower_B = jnp.take_along_axis(upper_BxC, component_B[:, None], axis=-1)[:, 0] - share_B
  within_B = jnp.clip((u_B - lower_B) / jnp.maximum(share_B, 1e-12), 1e-6, 1.0 - 1e-6)
  noise_BxZb = noise_BxZb.at[:, 0].set(ndtri(within_B))
  copy_BxZb = jnp.take_along_axis(prior["copies"], jnp.maximum(component_B - 1, 0)[:, None, None],
                                  axis=1)[:, 0]
  is_new_Bx1 = (component_B == 0)[:, None]
  return (jnp.where(is_new_Bx1, mu_BxZb, copy_BxZb),
          jnp.where(is_new_Bx1, log_var_BxZb, prior["copy_log_var"]), noise_BxZb)


def gaussian_log_prob(x, mu, log_var):
  """log N(x; mu, e^log_var), summed over the last axis."""
  return norm.logpdf(x, mu, jnp.exp(0.5 * log_var)).sum(-1)


def kl_between_gaussians(mu_q, log_var_q, mu_p, log_var_p):
  """KL(N(mu_q, e^log_var_q) || N(mu_p, e^log_var_p)), summed over the last axis."""
  return 0.5 * jnp.sum(log_var_p - log_var_q
                       + (jnp.exp(log_var_q) + (mu_q - mu_p) ** 2) * jnp.exp(-log_var_p) - 1.0,
                       axis=-1)
