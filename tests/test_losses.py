"""Loss terms against independent estimates."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hrnnvae import losses


def test_analytic_kl_equals_a_monte_carlo_estimate():
  mu = jnp.array([[0.5, -1.0, 0.0], [2.0, 0.3, -0.7]])
  log_var = jnp.array([[0.0, -1.0, 0.5], [-2.0, 0.2, 1.0]])
  samples = 400_000
  eps = jax.random.normal(jax.random.key(0), (samples,) + mu.shape)
  z = mu + jnp.exp(0.5 * log_var) * eps
  log_q = jax.scipy.stats.norm.logpdf(z, mu, jnp.exp(0.5 * log_var)).sum(-1)
  log_p = jax.scipy.stats.norm.logpdf(z).sum(-1)
  estimate = (log_q - log_p).mean(0)
  np.testing.assert_allclose(losses.kl_to_standard_normal(mu, log_var), estimate, rtol=0.02, atol=0.01)


def test_kl_is_zero_at_the_prior():
  np.testing.assert_allclose(losses.kl_to_standard_normal(jnp.zeros((2, 4)), jnp.zeros((2, 4))), 0)


@pytest.mark.parametrize("step,expected", [(0, 0.0), (250, 0.25), (1000, 1.0), (5000, 1.0)])
def test_kl_weight_rises_linearly_then_holds(step, expected):
  assert float(losses.kl_weight(step, beta_max=1.0, warmup_steps=1000)) == pytest.approx(expected)
  assert float(losses.kl_weight(step, beta_max=0.5, warmup_steps=1000)) == pytest.approx(expected / 2)


def test_free_bits():
  np.testing.assert_allclose(losses.free_bits_kl(jnp.array([0.5, 3.0]), 1.0), [0.0, 2.0])


def test_reconstruction_counts_only_real_steps():
  logits = jnp.log(jnp.array([[[0.5, 0.5], [0.9, 0.1], [0.2, 0.8]]]))
  events = jnp.array([[0, 0, 0]])
  mask = jnp.array([[True, True, False]])
  nll, correct = losses.reconstruction(logits, events, mask)
  np.testing.assert_allclose(nll, [-np.log(0.5) - np.log(0.9)], rtol=1e-6)
  assert correct.tolist() == [2]  # argmax ties go to class 0; step 2 is padding


def test_adversarial_terms():
  real, fake = jnp.array([2.0, 1.0]), jnp.array([-1.0, 0.5])
  np.testing.assert_allclose(losses.critic_adversarial(real, fake, "hinge"), 0.0 + (0.0 + 1.5) / 2)
  np.testing.assert_allclose(losses.generator_adversarial(fake, "hinge"), 0.25)
  np.testing.assert_allclose(losses.generator_adversarial(fake, "non_saturating"),
                             np.mean(np.log1p(np.exp(-np.array([-1.0, 0.5])))), rtol=1e-6)


def test_r1_is_the_squared_input_gradient():
  weights = jnp.arange(6.0).reshape(1, 2, 3)
  critic = lambda x: (x * weights).sum(axis=(1, 2))
  np.testing.assert_allclose(losses.r1_penalty(critic, jnp.ones((4, 2, 3))), (weights ** 2).sum())
