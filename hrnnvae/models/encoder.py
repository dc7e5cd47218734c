"""The hierarchical encoder: event embedding -> short-term RNN (Eq. 1) -> long-term RNN (Eq. 2)."""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from hrnnvae.models.cells import TanhRNN
from hrnnvae.models.hparams import ModelHParams


def long_term_updates(lengths_B: jax.Array, steps_per_bar_B: jax.Array, num_steps: int,
                      stride: int) -> jax.Array:
  """[B, T] bool: the steps at which the long-term layer reads the short-term state.

  stride 1 is Eq. 2 (every real step); 0 is once per bar (at each bar's last step); k is every
  k steps. The last real step always updates, so h_T summarises the whole melody.
  """
  t_T = jnp.arange(num_steps)
  real_BxT = t_T[None, :] < lengths_B[:, None]
  period_B = steps_per_bar_B if stride == 0 else jnp.full_like(lengths_B, stride)
  at_stride = (t_T[None, :] + 1) % period_B[:, None] == 0
  last = t_T[None, :] == lengths_B[:, None] - 1
  return real_BxT & (at_stride | last)


class Encoder(nn.Module):
  """events_BxT (int classes) -> h_T [B, H]: the long-term state after the last real step."""
  hp: ModelHParams

  @nn.compact
  def __call__(self, events_BxT: jax.Array, lengths_B: jax.Array,
               steps_per_bar_B: jax.Array) -> jax.Array:
    hp = self.hp
    num_steps = events_BxT.shape[1]
    real_BxT = jnp.arange(num_steps)[None, :] < lengths_B[:, None]
    x_BxTxE = nn.Embed(hp.num_classes, hp.embed_dim, name="embed")(events_BxT)
    short_BxH, short_BxTxH = TanhRNN(hp.short_term_dim, name="short_term")(x_BxTxE, real_BxT)
    if not hp.hierarchical:
      return short_BxH
    updates_BxT = long_term_updates(lengths_B, steps_per_bar_B, num_steps, hp.long_term_stride)
    long_BxH, _ = TanhRNN(hp.long_term_dim, name="long_term")(short_BxTxH, updates_BxT)
    return long_BxH
