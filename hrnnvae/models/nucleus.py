"""Tempered, nucleus-truncated logits for the decoders' Gumbel-max sampling.

Nucleus (top-p) sampling (Holtzman et al. 2020, "The curious case of neural text degeneration")
draws each event from the smallest set of most likely events whose probability reaches top_p,
renormalised; the rest of the distribution's tail, where a few unlikely wrong notes come from,
is never drawn. argmax(nucleus_logits(...) + Gumbel noise) is a draw from that distribution.
"""

import jax
import jax.numpy as jnp


def nucleus_logits(logits_BxV: jax.Array, temperature, top_p=None) -> jax.Array:
  """logits / temperature, with every event outside the top-p nucleus of that tempered
  distribution set to -inf. top_p None keeps every event (plain temperature sampling). An event
  tied in probability with the nucleus's least likely one is kept too."""
  tempered_BxV = logits_BxV / temperature
  if top_p is None:
    return tempered_BxV
  probs_BxV = jax.nn.softmax(tempered_BxV, axis=-1)
  sorted_BxV = -jnp.sort(-probs_BxV, axis=-1)  # most likely first
  mass_before_BxV = jnp.cumsum(sorted_BxV, axis=-1) - sorted_BxV
  in_nucleus_BxV = mass_before_BxV < top_p  # the most likely event always is (0 < top_p)
  least_B1 = jnp.min(jnp.where(in_nucleus_BxV, sorted_BxV, jnp.inf), axis=-1, keepdims=True)
  return jnp.where(probs_BxV >= least_B1, tempered_BxV, -jnp.inf)
