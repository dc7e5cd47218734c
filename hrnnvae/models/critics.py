"""Small convolutional classifiers over sequences of event distributions.

The same module serves as the emotion classifier E (4 outputs) and the adversarial critic D
(1 output). Inputs are distributions [B, T, V]: one-hot for real melodies, the decoder's
softmax or straight-through samples for generated ones.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp


class SequenceClassifier(nn.Module):
  num_outputs: int
  channels: int = 64

  @nn.compact
  def __call__(self, events_BxTxV: jax.Array, mask_BxT: jax.Array) -> jax.Array:
    """Logits [B, num_outputs]; steps where mask_BxT is False are ignored."""
    mask = mask_BxT[..., None].astype(events_BxTxV.dtype)
    x = nn.Dense(self.channels, use_bias=False, name="embed")(events_BxTxV) * mask
    # Two strided convolutions see rhythm and interval patterns up to a bar or so.
    x = nn.gelu(nn.Conv(self.channels, kernel_size=(8,), strides=(4,), name="conv1")(x))
    x = nn.gelu(nn.Conv(self.channels, kernel_size=(4,), strides=(2,), name="conv2")(x))
    pooled_mask = mask[:, ::4][:, ::2]  # which output positions start inside the melody
    pooled_BxC = (x * pooled_mask).sum(axis=1) / jnp.maximum(pooled_mask.sum(axis=1), 1.0)
    return nn.Dense(self.num_outputs, name="logits")(nn.gelu(nn.Dense(self.channels)(pooled_BxC)))
