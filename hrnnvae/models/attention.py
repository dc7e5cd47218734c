"""Causal attention over the decoder's own earlier states, one query step at a time.

Keys and values are projected once, when a state is produced, and written into a ring cache of
W slots (W = T for all history, or a window of the last W steps), so a step costs O(W * A).
At step t slot s is valid once written: s <= t, or always after the first wrap (t >= W).
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp


def valid_slots(t: jax.Array, num_slots: int) -> jax.Array:
  """[W] bool: the slots that hold one of the steps k <= t within the window."""
  return (jnp.arange(num_slots) <= t) | (t >= num_slots)


def write_slot(cache_BxWxD: jax.Array, t: jax.Array, row_BxD: jax.Array) -> jax.Array:
  return jax.lax.dynamic_update_slice_in_dim(
      cache_BxWxD, row_BxD[:, None, :].astype(cache_BxWxD.dtype), t % cache_BxWxD.shape[1], axis=1)


class AdditiveAttention(nn.Module):
  """Eqs. 3-4: e_tk = v^T tanh(W h_t + U h_k + b), alpha = softmax over valid k, c_t = sum alpha h_k."""
  dim: int

  def setup(self):
    self.query = nn.Dense(self.dim, name="query")  # W^(a) h_t + b^(a)
    self.key = nn.Dense(self.dim, use_bias=False, name="key")  # U^(a) h_k, cached
    self.score = nn.Dense(1, use_bias=False, name="score")  # v

  def keys_values(self, h_BxH: jax.Array) -> tuple[jax.Array, jax.Array]:
    return self.key(h_BxH), h_BxH

  def __call__(self, h_BxH, keys_BxWxA, values_BxWxH, valid_W):
    e_BxW = self.score(jnp.tanh(self.query(h_BxH)[:, None, :] + keys_BxWxA))[..., 0]
    alpha_BxW = jax.nn.softmax(jnp.where(valid_W, e_BxW, -jnp.inf), axis=-1)
    return jnp.einsum("bw,bwh->bh", alpha_BxW, values_BxWxH), alpha_BxW


class DotProductAttention(nn.Module):
  """Multi-head scaled dot-product attention; alpha is returned averaged over heads."""
  dim: int
  heads: int

  def setup(self):
    self.query = nn.Dense(self.dim, name="query")
    self.key = nn.Dense(self.dim, name="key")
    self.value = nn.Dense(self.dim, name="value")

  def keys_values(self, h_BxH):
    return self.key(h_BxH), self.value(h_BxH)

  def __call__(self, h_BxH, keys_BxWxA, values_BxWxA, valid_W):
    batch, slots = keys_BxWxA.shape[:2]
    head_dim = self.dim // self.heads
    q_BxNxD = self.query(h_BxH).reshape(batch, self.heads, head_dim)
    k_BxWxNxD = keys_BxWxA.reshape(batch, slots, self.heads, head_dim)
    v_BxWxNxD = values_BxWxA.reshape(batch, slots, self.heads, head_dim)
    e_BxNxW = jnp.einsum("bnd,bwnd->bnw", q_BxNxD, k_BxWxNxD) / jnp.sqrt(head_dim)
    alpha_BxNxW = jax.nn.softmax(jnp.where(valid_W, e_BxNxW, -jnp.inf), axis=-1)
    c_BxNxD = jnp.einsum("bnw,bwnd->bnd", alpha_BxNxW, v_BxWxNxD)
    return c_BxNxD.reshape(batch, self.dim), alpha_BxNxW.mean(axis=1)
