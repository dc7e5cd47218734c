"""Loss terms, each a pure function. Eq. 8 is the ELBO; the emotion and adversarial terms are ours.

Shapes: logits [B, T, V], events [B, T] int, mask [B, T] bool (real, unpadded steps).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax


def reconstruction(logits_BxTxV, events_BxT, mask_BxT):
  """(negative log-likelihood summed over real steps [B], correct argmax predictions [B])."""
  nll_BxT = optax.softmax_cross_entropy_with_integer_labels(logits_BxTxV, events_BxT)
  correct_BxT = jnp.argmax(logits_BxTxV, axis=-1) == events_BxT
  return (nll_BxT * mask_BxT).sum(axis=1), (correct_BxT & mask_BxT).sum(axis=1)


def kl_to_standard_normal(mu_BxZ, log_var_BxZ):
  """KL(N(mu, sigma^2) || N(0, I)) in nats, summed over latent units: [B] (Eq. 8's second term)."""
  return 0.5 * jnp.sum(jnp.exp(log_var_BxZ) + mu_BxZ ** 2 - 1.0 - log_var_BxZ, axis=-1)


def kl_weight(step, beta_max: float, warmup_steps: int):
  """Linear annealing: 0 at step 0, beta_max from warmup_steps on."""
  if warmup_steps <= 0:
    return jnp.asarray(beta_max, jnp.float32)
  return beta_max * jnp.minimum(jnp.asarray(step, jnp.float32) / warmup_steps, 1.0)


def free_bits_kl(kl_B, free_bits: float):
  """MusicVAE's free bits: KL below `free_bits` nats per melody is not penalised."""
  return jnp.maximum(kl_B - free_bits, 0.0)


def classification(logits_BxK, labels_B, weights_B=None):
  """(mean cross-entropy, accuracy) over the weighted examples."""
  weights_B = jnp.ones(labels_B.shape, jnp.float32) if weights_B is None else weights_B
  total = jnp.maximum(weights_B.sum(), 1.0)
  ce = optax.softmax_cross_entropy_with_integer_labels(logits_BxK, labels_B)
  correct = jnp.argmax(logits_BxK, axis=-1) == labels_B
  return (ce * weights_B).sum() / total, (correct * weights_B).sum() / total


def generator_adversarial(fake_scores_B, kind: str):
  """The generator's term: non-saturating -log sigmoid(D(fake)), or hinge -D(fake)."""
  if kind == "hinge":
    return -fake_scores_B.mean()
  return jax.nn.softplus(-fake_scores_B).mean()


def critic_adversarial(real_scores_B, fake_scores_B, kind: str):
  """The critic's term: non-saturating or hinge."""
  if kind == "hinge":
    return jax.nn.relu(1.0 - real_scores_B).mean() + jax.nn.relu(1.0 + fake_scores_B).mean()
  return jax.nn.softplus(-real_scores_B).mean() + jax.nn.softplus(fake_scores_B).mean()


def r1_penalty(critic_fn, real_BxTxV):
  """R1 (Mescheder et al., 2018): mean squared norm of dD/dx on real inputs."""
  grads = jax.grad(lambda x: critic_fn(x).sum())(real_BxTxV)
  return jnp.sum(grads ** 2, axis=(1, 2)).mean()
