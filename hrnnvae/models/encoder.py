"""The encoders: event embedding -> short-term RNN (Eq. 1) -> long-term RNN (Eq. 2) -> summary.

Two layouts (config model.encoder):
  "bar_bidirectional" (default): on the bar grid (models/bars.py), a bidirectional short-term
    layer runs inside every bar, all bars in parallel, and a bidirectional long-term layer runs
    over the bars' summaries: the encoder sees the whole melody from both ends, and its
    sequential depth is S + N (about 40) rather than T (up to 384).
  "continuous" (the paper's Eqs. 1-2 as first built): a forward short-term scan over all T steps,
    then a long-term scan that reads it every `long_term_stride` steps.
Both add the position features of models/bars.py to the event embedding when
model.position_input is on.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from hrnnvae.models import bars as bars_lib
from hrnnvae.models.cells import BidirectionalTanhRNN, TanhRNN
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


def embed_with_positions(hp: ModelHParams, embed: nn.Module, events_BxT, steps_per_bar_B):
  """[B, T, E (+ POSITION_DIM)]: the event embedding, with position features if configured."""
  x_BxTxE = embed(events_BxT)
  if not hp.position_input:
    return x_BxTxE
  step_in_bar, bar = bars_lib.time_positions(steps_per_bar_B, events_BxT.shape[1])
  return jnp.concatenate([x_BxTxE, bars_lib.position_features(step_in_bar, bar, x_BxTxE.dtype)],
                         axis=-1)


class BarEncoder(nn.Module):
  """events_BxT -> [B, 2L]: the bidirectional long-term layer's two final states.

  with_bars: also each bar's own summary (the short-term layer's two final states inside the
  bar, [B, N, 2S]) and which bars hold a real step [B, N], for per-bar latents."""
  hp: ModelHParams

  @nn.compact
  def __call__(self, events_BxT, lengths_B, steps_per_bar_B, grid=None, with_bars=False):
    hp = self.hp
    num_steps = events_BxT.shape[1]
    grid = grid or bars_lib.grid_shape(num_steps, hp.min_steps_per_bar, hp.max_steps_per_bar)
    x_BxTxI = embed_with_positions(hp, nn.Embed(hp.num_classes, hp.embed_dim, name="embed"),
                                   events_BxT, steps_per_bar_B)
    x_BxNxSxI, real_BxNxS = bars_lib.to_grid(x_BxTxI, steps_per_bar_B, lengths_B, grid)
    batch, (bars, steps) = events_BxT.shape[0], grid
    bar_summary = BidirectionalTanhRNN(hp.short_term_dim, hp.dtype, name="short_term")(
        x_BxNxSxI.reshape(batch * bars, steps, -1), real_BxNxS.reshape(batch * bars, steps))
    bar_summary_BxNxH, real_bars_BxN = bar_summary.reshape(batch, bars, -1), real_BxNxS.any(axis=-1)
    summary_BxH = BidirectionalTanhRNN(hp.long_term_dim, hp.dtype, name="long_term")(
        bar_summary_BxNxH, real_bars_BxN)
    return (summary_BxH, bar_summary_BxNxH, real_bars_BxN) if with_bars else summary_BxH


class Encoder(nn.Module):
  """events_BxT (int classes) -> h_T [B, H]: the long-term state after the last real step."""
  hp: ModelHParams

  @nn.compact
  def __call__(self, events_BxT: jax.Array, lengths_B: jax.Array,
               steps_per_bar_B: jax.Array, grid=None) -> jax.Array:
    del grid  # the continuous encoder scans time directly
    hp = self.hp
    num_steps = events_BxT.shape[1]
    real_BxT = jnp.arange(num_steps)[None, :] < lengths_B[:, None]
    x_BxTxE = embed_with_positions(hp, nn.Embed(hp.num_classes, hp.embed_dim, name="embed"),
                                   events_BxT, steps_per_bar_B)
    short_BxH, short_BxTxH = TanhRNN(hp.short_term_dim, hp.dtype, name="short_term")(x_BxTxE, real_BxT)
    if not hp.hierarchical:
      return short_BxH
    updates_BxT = long_term_updates(lengths_B, steps_per_bar_B, num_steps, hp.long_term_stride)
    long_BxH, _ = TanhRNN(hp.long_term_dim, hp.dtype, name="long_term")(short_BxTxH, updates_BxT)
    return long_BxH
