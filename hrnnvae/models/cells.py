"""The tanh RNN cell of Eqs. 1-2, h_t = tanh(W x_t + U h_{t-1} + b), and its masked scan driver."""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp


class TanhRNNCell(nn.Module):
  """One step: h_BxH = tanh(input(x_BxI) + recurrent(h_BxH)); `input` carries the bias b.

  dtype: the matmuls' dtype (None: the inputs'); parameters and the state stay in float32."""
  hidden: int
  dtype: jnp.dtype | None = None

  @nn.compact
  def __call__(self, h_BxH: jax.Array, x_BxI: jax.Array) -> jax.Array:
    return jnp.tanh(nn.Dense(self.hidden, dtype=self.dtype, name="input")(x_BxI)
                    + nn.Dense(self.hidden, use_bias=False, kernel_init=nn.initializers.orthogonal(),
                             dtype=self.dtype, name="recurrent")(h_BxH)).astype(h_BxH.dtype)


class _MaskedStep(nn.Module):
  hidden: int
  dtype: jnp.dtype | None = None

  @nn.compact
  def __call__(self, h_BxH, inputs):
    x_BxI, update_B = inputs
    new_BxH = TanhRNNCell(self.hidden, self.dtype, name="cell")(h_BxH, x_BxI)
    h_BxH = jnp.where(update_B[:, None], new_BxH, h_BxH)  # a masked step never changes the state
    return h_BxH, h_BxH


class TanhRNN(nn.Module):
  """Runs TanhRNNCell over time with lax.scan; steps where `update_BxT` is False keep the state.

  Returns (final state h_BxH, all states h_BxTxH).
  """
  hidden: int
  dtype: jnp.dtype | None = None

  @nn.compact
  def __call__(self, x_BxTxI: jax.Array, update_BxT: jax.Array,
               h0_BxH: jax.Array | None = None) -> tuple[jax.Array, jax.Array]:
    if h0_BxH is None:
      h0_BxH = jnp.zeros((x_BxTxI.shape[0], self.hidden), x_BxTxI.dtype)
    scan = nn.scan(_MaskedStep, variable_broadcast="params", split_rngs={"params": False},
                   in_axes=1, out_axes=1)
    return scan(self.hidden, self.dtype, name="steps")(h0_BxH, (x_BxTxI, update_BxT))


class _BidirectionalMaskedStep(nn.Module):
  """Both directions of a bidirectional layer in one scan step (inputs arrive pre-flipped)."""
  hidden: int
  dtype: jnp.dtype | None = None

  @nn.compact
  def __call__(self, carry, inputs):
    h_forward, h_backward = carry
    x_forward, update_forward, x_backward, update_backward = inputs
    new_forward = TanhRNNCell(self.hidden, self.dtype, name="forward")(h_forward, x_forward)
    new_backward = TanhRNNCell(self.hidden, self.dtype, name="backward")(h_backward, x_backward)
    h_forward = jnp.where(update_forward[:, None], new_forward, h_forward)
    h_backward = jnp.where(update_backward[:, None], new_backward, h_backward)
    return (h_forward, h_backward), None


def flip_masked(x_BxTx: jax.Array, real_BxT: jax.Array) -> tuple[jax.Array, jax.Array]:
  """Reverses time. Real steps must be a prefix of each row; after the flip the padding comes
  first and is masked, so a masked scan starts at each row's last real step."""
  return jnp.flip(x_BxTx, axis=1), jnp.flip(real_BxT, axis=1)


class BidirectionalTanhRNN(nn.Module):
  """A bidirectional tanh RNN whose two directions share one lax.scan.

  Returns the final forward state (after the last real step) and the final backward state
  (after the first real step), concatenated: [B, 2H].
  """
  hidden: int
  dtype: jnp.dtype | None = None

  @nn.compact
  def __call__(self, x_BxTxI: jax.Array, real_BxT: jax.Array) -> jax.Array:
    x_backward, real_backward = flip_masked(x_BxTxI, real_BxT)
    zeros = jnp.zeros((x_BxTxI.shape[0], self.hidden), x_BxTxI.dtype)
    scan = nn.scan(_BidirectionalMaskedStep, variable_broadcast="params",
                   split_rngs={"params": False}, in_axes=1, out_axes=1)
    (h_forward, h_backward), _ = scan(self.hidden, self.dtype, name="steps")(
        (zeros, zeros), (x_BxTxI, real_BxT, x_backward, real_backward))
    return jnp.concatenate([h_forward, h_backward], axis=-1)
