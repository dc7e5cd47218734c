"""Causal attention over the decoder's own long-term states (queries [B, Q, H], keys [B, K, A]).

Keys and values are projected once per state (`keys_values`), never per query. Two callers:
  teacher forcing: all T states at once, keys k <= t (and t - k < window) valid for query t;
  free running: one query a step against a ring cache of W slots, written as states appear
  (W = T for all history, or the window), so a step costs O(W * A).
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp


def causal_mask(query_steps_Q: jax.Array, num_keys: int, window: int) -> jax.Array:
  """[Q, K] bool: key step k is visible from query step t iff t - window < k <= t."""
  keys_K = jnp.arange(num_keys)
  return (keys_K[None, :] <= query_steps_Q[:, None]) & (keys_K[None, :] > query_steps_Q[:, None] - window)


def ring_valid(t: jax.Array, num_slots: int) -> jax.Array:
  """[1, W] bool: ring slots holding a step k <= t (all of them once the ring has wrapped)."""
  return ((jnp.arange(num_slots) <= t) | (t >= num_slots))[None, :]


def ring_write(cache_BxWxD: jax.Array, t: jax.Array, row_BxD: jax.Array) -> jax.Array:
  return jax.lax.dynamic_update_slice_in_dim(
      cache_BxWxD, row_BxD[:, None, :].astype(cache_BxWxD.dtype), t % cache_BxWxD.shape[1], axis=1)


class AdditiveAttention(nn.Module):
  """Eqs. 3-4: e_tk = v^T tanh(W h_t + U h_k + b), alpha = softmax over visible k, c_t = sum alpha h_k."""
  dim: int
  dtype: jnp.dtype | None = None  # matmul dtype; the softmax and the context stay float32

  def setup(self):
    self.query = nn.Dense(self.dim, dtype=self.dtype, name="query")  # W^(a) h_t + b^(a)
    self.key = nn.Dense(self.dim, use_bias=False, dtype=self.dtype, name="key")  # U^(a) h_k
    self.score = nn.Dense(1, use_bias=False, dtype=self.dtype, name="score")  # v

  def keys_values(self, h):
    return self.key(h), h

  def __call__(self, h_BxQxH, keys_BxKxA, values_BxKxH, visible_QxK):
    e_BxQxK = self.score(jnp.tanh(self.query(h_BxQxH)[:, :, None, :] + keys_BxKxA[:, None]))[..., 0]
    e_BxQxK = e_BxQxK.astype(jnp.float32)
    alpha_BxQxK = jax.nn.softmax(jnp.where(visible_QxK, e_BxQxK, -jnp.inf), axis=-1)
    context_BxQxH = jnp.einsum("bqk,bkh->bqh", alpha_BxQxK, values_BxKxH.astype(jnp.float32))
    return context_BxQxH.astype(h_BxQxH.dtype), alpha_BxQxK


class DotProductAttention(nn.Module):
  """Multi-head scaled dot-product attention; alpha is returned averaged over heads."""
  dim: int
  heads: int
  dtype: jnp.dtype | None = None

  def setup(self):
    self.query = nn.Dense(self.dim, dtype=self.dtype, name="query")
    self.key = nn.Dense(self.dim, dtype=self.dtype, name="key")
    self.value = nn.Dense(self.dim, dtype=self.dtype, name="value")

  def keys_values(self, h):
    return self.key(h), self.value(h)

  def __call__(self, h_BxQxH, keys_BxKxA, values_BxKxA, visible_QxK):
    batch, queries, _ = h_BxQxH.shape
    head_dim = self.dim // self.heads
    split = lambda x: x.reshape(x.shape[:2] + (self.heads, head_dim))
    e_BxNxQxK = jnp.einsum("bqnd,bknd->bnqk", split(self.query(h_BxQxH)), split(keys_BxKxA))
    e_BxNxQxK = e_BxNxQxK.astype(jnp.float32)
    e_BxNxQxK = jnp.where(visible_QxK, e_BxNxQxK / jnp.sqrt(head_dim), -jnp.inf)
    alpha_BxNxQxK = jax.nn.softmax(e_BxNxQxK, axis=-1)
    c_BxQxNxD = jnp.einsum("bnqk,bknd->bqnd", alpha_BxNxQxK, split(values_BxKxA).astype(jnp.float32))
    return (c_BxQxNxD.reshape(batch, queries, self.dim).astype(h_BxQxH.dtype),
            alpha_BxNxQxK.mean(axis=1))
