"""Typed model hyperparameters, built once from `config.model` (modules never see ConfigDicts)."""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp

from hrnnvae.data import emotion as emotion_lib
from hrnnvae.data import events as events_lib


@dataclasses.dataclass(frozen=True)
class ModelHParams:
  num_steps: int  # T: the longest window the model is trained on
  min_steps_per_bar: int  # the shortest bar in the data: T steps span at most T / this bars
  max_steps_per_bar: int = 16  # the longest bar in the data: the bar grid's width S
  max_bars: int = 0  # the most bars of any training window (0: unknown, T / min_steps_per_bar)
  family: str = "hrnnvae"  # or the baselines "lstm_lm", "musicvae_like" (models/baselines.py)
  embed_dim: int = 64
  short_term_dim: int = 256
  long_term_dim: int = 256
  long_term_stride: int = 1  # 1: Eq. 2 every step; 0: once per bar; k: every k steps
  latent_dim: int = 128
  emotion_dim: int = 16
  conductor_dim: int = 256
  context_dim: int = 0  # width of tanh(Dense([z, emotion])) fed to the conductor and steps; 0: decoder_dim
  decoder_dim: int = 256
  attention: str = "additive"  # "additive" (Eqs. 3-4) or "dot_product" (multi-head)
  attention_dim: int = 128
  attention_heads: int = 4
  attention_window: int = 0  # W in steps; 0: all history (T slots)
  use_vae: bool = True
  hierarchical: bool = True
  encoder: str = "bar_bidirectional"  # or "continuous" (models/encoder.py)
  decoder: str = "bar_reset"  # or "continuous" (models/decoder.py)
  position_input: bool = True  # position in bar and beat phase as RNN inputs (models/bars.py)
  # The sounding pitch and the events 1 and 2 bars back as decoder inputs (models/bars.py).
  # False here so that exports written before it existed load as they were trained.
  lookback_input: bool = False
  word_dropout: float = 0.0  # share of teacher-forced decoder inputs blanked while training
  classifier_channels: int = 64
  sample_unroll: int = 1  # steps of the free-running scan per loop iteration (speed only)
  compute_dtype: str = "float32"  # or "bfloat16": RNN, attention and output matmuls (params f32)
  cache_dtype: str = "float32"  # or "bfloat16": the sampler's attention key/value cache
  num_classes: int = events_lib.NUM_CLASSES
  num_emotions: int = len(emotion_lib.EMOTIONS)

  @property
  def start_token(self) -> int:
    """The extra input class fed before the first step (not an output class)."""
    return self.num_classes

  @property
  def dtype(self):
    """The matmul dtype of the RNN cells, attention and output layer (None: float32)."""
    return jnp.bfloat16 if self.compute_dtype == "bfloat16" else None

  @property
  def cache_jnp_dtype(self):
    return jnp.bfloat16 if self.cache_dtype == "bfloat16" else jnp.float32

  def cache_slots(self, num_steps: int) -> int:
    """W: attention slots for a decode of num_steps (the window, or all history)."""
    return min(self.attention_window or num_steps, num_steps)

  def num_bars(self, num_steps: int) -> int:
    """N: bars the conductor produces so that every one of num_steps steps has one."""
    return -(-num_steps // self.min_steps_per_bar)

  @classmethod
  def from_config(cls, model_config, num_steps: int, min_steps_per_bar: int,
                  max_steps_per_bar: int, max_bars: int = 0) -> "ModelHParams":
    """From `config.model` and the data's shape; attention_window_bars uses the longest bar."""
    fields = {f.name for f in dataclasses.fields(cls)}
    values = {k: v for k, v in model_config.items() if k in fields}
    values["attention_window"] = model_config.attention_window_bars * max_steps_per_bar
    hp = cls(num_steps=num_steps, min_steps_per_bar=min_steps_per_bar,
             max_steps_per_bar=max_steps_per_bar, max_bars=max_bars, **values)
    hp.validate()
    return hp

  def validate(self) -> None:
    """ValueError naming the field when a choice is unknown or the layout is impossible."""
    choices = {"encoder": ("bar_bidirectional", "continuous"),
               "decoder": ("bar_reset", "continuous"), "attention": ("additive", "dot_product"),
               "compute_dtype": ("float32", "bfloat16"), "cache_dtype": ("float32", "bfloat16")}
    for field, allowed in choices.items():
      if getattr(self, field) not in allowed:
        raise ValueError(f"model.{field} must be one of {', '.join(allowed)}, "
                         f"not {getattr(self, field)!r}")
    if self.decoder == "bar_reset" and not self.hierarchical:
      raise ValueError("model.decoder='bar_reset' needs the conductor (model.hierarchical=True)")
    if not 0.0 <= self.word_dropout < 1.0:
      raise ValueError(f"model.word_dropout must be in [0, 1), not {self.word_dropout}")
