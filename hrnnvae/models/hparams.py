"""Typed model hyperparameters, built once from `config.model` (modules never see ConfigDicts).

No default value is written here: `configs/default.py` is the one place defaults live, with a
comment for each field. `from_config` takes every field of `config.model` and refuses a missing
or unknown one; `from_export` reads an export's `model` facts, accepting what older exports
recorded (fields since removed at their no-op value, fields they predate at the value they
were trained with).
"""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp

from hrnnvae.data import emotion as emotion_lib
from hrnnvae.data import events as events_lib

# The data's shape, from the cache (train/input_pipeline.Data), not from the config.
DATA_FIELDS = ("num_steps", "min_steps_per_bar", "max_steps_per_bar", "max_bars")
# Fields a post-training fit sets on an export, not config.model: the bar adapter's width
# (bar_adapter.py, config.post.bar_adapter_dim); every model trains without it.
# The transfer adapter's reach into the tune it moves (transfer_adapter.py): only the decoder
# that emotion transfer builds for it sets it, from the adapter's leaves; exports record 0.
FITTED_FIELDS = {"bar_adapter_dim": 0, "adapter_tune_steps": 0}
# config.model fields that reach the hparams under another form.
_DERIVED = {"attention_window_bars": "attention_window"}  # bars -> steps at the longest bar

# Fields that older exports lack, at the value those exports were trained with (history, not
# defaults: every export written now records every field).
_BEFORE_RECORDED = {"max_bars": 0, "lookback_input": False, "lookback_bars": (1, 2),
                    "sample_unroll": 1, "bar_latent_dim": 0, "bar_latent_prior": "standard",
                    "bar_latent_dropout": 0.0, "bar_adapter_dim": 0, "adapter_tune_steps": 0,
                    "compute_dtype": "float32",
                    "cache_dtype": "float32", "tune_bar_positions": False, "part_bars": 0}
# Fields since removed (measurement rejected them: BUILD_NOTES, issue 8 (b)), at the value that
# made them no-ops; an export with another value was trained with a model this version cannot
# build. context_dim: the width of tanh(Dense([z, emotion])) apart from the step RNNs'; word
# dropout: the share of teacher-forced decoder inputs blanked (it only matters in training).
_REMOVED = {"context_dim": 0, "word_dropout": None}


def config_values(section_config, section: str, expected: set[str]) -> dict:
  """The fields of config.<section> as a dict; ValueError naming every field that is missing
  from it or unknown to `expected` (a misspelled override is never silently dropped)."""
  values = dict(section_config.items())
  unknown, missing = sorted(set(values) - expected), sorted(expected - set(values))
  problems = ([f"unknown field(s) {', '.join(unknown)}"] if unknown else []) + (
      [f"missing field(s) {', '.join(missing)}"] if missing else [])
  if problems:
    raise ValueError(f"config.{section} does not match what it configures: {'; '.join(problems)}")
  return values


@dataclasses.dataclass(frozen=True, kw_only=True)
class ModelHParams:
  num_steps: int  # T: the longest window the model is trained on
  min_steps_per_bar: int  # the shortest bar in the data: T steps span at most T / this bars
  max_steps_per_bar: int  # the longest bar in the data: the bar grid's width S
  max_bars: int  # the most bars of any training window (0: unknown, T / min_steps_per_bar)
  # config.model's fields, one for one (configs/default.py says what each does):
  family: str
  embed_dim: int
  short_term_dim: int
  long_term_dim: int
  long_term_stride: int
  latent_dim: int
  bar_latent_dim: int
  bar_latent_prior: str
  bar_latent_dropout: float
  # The bar adapter (models/decoder.DecoderStep.bar_adapter): FITTED_FIELDS, 0 = none.
  bar_adapter_dim: int
  # The adapter also reads the tune's events at this step and the next adapter_tune_steps - 1
  # (an emotion transfer's decoder through a tune-reading transfer adapter; FITTED_FIELDS, 0 =
  # none): models/decoder.DecoderStep.bar_adapter.
  adapter_tune_steps: int
  emotion_dim: int
  conductor_dim: int
  decoder_dim: int
  attention: str
  attention_dim: int
  attention_heads: int
  attention_window: int  # W in steps (model.attention_window_bars x the longest bar); 0: all
  use_vae: bool
  hierarchical: bool
  encoder: str
  decoder: str
  position_input: bool
  # The conductor's bar features count bars from the tune's first bar, not the window's (a window
  # starting at bar 4 gets bar 4's phrase and period place), and part_bars > 0 adds a learned
  # shift to its input in every odd part of that many bars (a B part; issue 19 (x)).
  tune_bar_positions: bool
  part_bars: int
  lookback_input: bool
  lookback_bars: tuple[int, ...]  # the lookback's "same place k bars back" slots, k in order
  classifier_channels: int
  sample_unroll: int
  compute_dtype: str
  cache_dtype: str
  # Constants of the event encoding and the emotion model, not settings.
  num_classes: int = events_lib.NUM_CLASSES
  num_emotions: int = len(emotion_lib.EMOTIONS)

  def __post_init__(self):
    # A config or an export's JSON gives a list: keep the hparams hashable (jit's static args).
    object.__setattr__(self, "lookback_bars", tuple(int(k) for k in self.lookback_bars))

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

  @property
  def bar_latent_slots(self) -> int:
    """Bars that carry their own latent (model.bar_latent_dim): the training windows' bars. A
    longer decode reuses them cyclically (bar n reads slot n mod this)."""
    if not self.bar_latent_dim:
      return 0
    return self.max_bars or self.num_bars(self.num_steps)

  @property
  def latent_size(self) -> int:
    """The width of a melody's whole latent: z (latent_dim), then each bar's latent in bar
    order (bar_latent_slots x bar_latent_dim). Every consumer of latents (the prior, the
    sampler, interpolation, the fine-tune) handles this flat vector."""
    return self.latent_dim + self.bar_latent_slots * self.bar_latent_dim

  @property
  def learned_bar_prior(self) -> bool:
    return bool(self.bar_latent_dim) and self.bar_latent_prior in ("learned", "copy_mixture")

  @property
  def prior_drops_bar_latents(self) -> bool:
    """Prior samples carry no bar latents (their part of the latent is zero): the model was
    trained with model.bar_latent_dropout, so it decodes z alone as well as z with the bars'."""
    return bool(self.bar_latent_dim) and self.bar_latent_dropout > 0

  @property
  def prior_sets_bar_latents(self) -> bool:
    """The model, not N(0, I), sets the bars' part of a prior latent (VAE.prior_latents)."""
    return self.learned_bar_prior or self.prior_drops_bar_latents

  @property
  def fitted_latent_size(self) -> int:
    """The part of the latent that the fitted prior (latent_prior.py) draws: all of it, or z
    alone when a learned prior draws the bars' latents or prior samples drop them."""
    return self.latent_dim if self.prior_sets_bar_latents else self.latent_size

  def split_latents(self, latents_BxL):
    """(z [B, latent_dim], the bars' latents [B, bar_latent_slots, bar_latent_dim]) of a melody's
    whole latent (latent_size wide); the bars' part is [B, 0, 0] without bar latents."""
    bars = latents_BxL[:, self.latent_dim:].reshape(
        latents_BxL.shape[0], self.bar_latent_slots, self.bar_latent_dim)
    return latents_BxL[:, :self.latent_dim], bars

  def without_bar_latents(self, latents_BxL):
    """The latents with the bars' part zero: what a model trained with model.bar_latent_dropout
    reads as "z alone" (a prior sample's latent, and a dropped training window's)."""
    return jnp.where(jnp.arange(latents_BxL.shape[-1])[None] < self.latent_dim, latents_BxL, 0.0)

  def cache_slots(self, num_steps: int) -> int:
    """W: attention slots for a decode of num_steps (the window, or all history)."""
    return min(self.attention_window or num_steps, num_steps)

  def num_bars(self, num_steps: int) -> int:
    """N: bars the conductor produces so that every one of num_steps steps has one."""
    return -(-num_steps // self.min_steps_per_bar)

  @classmethod
  def config_fields(cls) -> set[str]:
    """The hparams fields that come from config.model (under their config names)."""
    derived = {v: k for k, v in _DERIVED.items()}
    return {derived.get(f.name, f.name) for f in dataclasses.fields(cls)
            if f.name not in DATA_FIELDS and f.name not in FITTED_FIELDS
            and f.name not in ("num_classes", "num_emotions")}

  @classmethod
  def from_config(cls, model_config, num_steps: int, min_steps_per_bar: int,
                  max_steps_per_bar: int, max_bars: int) -> "ModelHParams":
    """From every field of `config.model` and the data's shape. A field missing from the config
    or unknown to the model is a ValueError naming it (never silently dropped)."""
    values = config_values(model_config, "model", cls.config_fields())
    values["attention_window"] = values.pop("attention_window_bars") * max_steps_per_bar
    hp = cls(num_steps=num_steps, min_steps_per_bar=min_steps_per_bar,
             max_steps_per_bar=max_steps_per_bar, max_bars=max_bars, **FITTED_FIELDS, **values)
    hp.validate()
    return hp

  @classmethod
  def from_export(cls, model_facts: dict) -> "ModelHParams":
    """From an export's config.json "model" facts (these hparams as written by the trainer)."""
    values = dict(model_facts)
    for name, no_op in _REMOVED.items():
      if name in values and values.pop(name) != no_op and no_op is not None:
        raise ValueError(f"the model was trained with model.{name}={model_facts[name]!r}, which "
                         f"this version no longer builds (only {no_op!r})")
    values = {**_BEFORE_RECORDED, **values}
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
      raise ValueError(f"the export's model has field(s) this version does not know: "
                       f"{', '.join(unknown)}")
    hp = cls(**values)
    hp.validate()
    return hp

  def attending_over(self, bars: int) -> "ModelHParams":
    """These hparams with the decoder attending over `bars` bars of the data's longest bar (0:
    as they are): the same parameters at another reach, as the sampler (sample.attention_bars)
    and the fine-tune's samples (loss.prior_sample_attention_bars) decode them."""
    if not bars:
      return self
    return dataclasses.replace(self, attention_window=bars * self.max_steps_per_bar)

  def validate(self) -> None:
    """ValueError naming the field when a choice is unknown or the layout is impossible."""
    choices = {"family": ("hrnnvae", "lstm_lm", "musicvae_like"),
               "encoder": ("bar_bidirectional", "continuous"),
               "decoder": ("bar_reset", "continuous"), "attention": ("additive", "dot_product"),
               "bar_latent_prior": ("standard", "learned", "copy_mixture"),
               "compute_dtype": ("float32", "bfloat16"), "cache_dtype": ("float32", "bfloat16")}
    for field, allowed in choices.items():
      if getattr(self, field) not in allowed:
        raise ValueError(f"model.{field} must be one of {', '.join(allowed)}, "
                         f"not {getattr(self, field)!r}")
    if not self.lookback_bars or any(k < 1 for k in self.lookback_bars):
      raise ValueError(f"model.lookback_bars must be bar distances of at least 1, not "
                       f"{self.lookback_bars!r}")
    if self.part_bars < 0:
      raise ValueError(f"model.part_bars must be 0 (off) or a number of bars, not {self.part_bars}")
    for name in ("part_bars", "tune_bar_positions"):
      if getattr(self, name) and not (self.family == "hrnnvae" and self.hierarchical):
        raise ValueError(f"model.{name} needs the hrnnvae family with the conductor "
                         "(model.hierarchical)")
    if self.bar_latent_dim and not (self.family == "hrnnvae" and self.hierarchical
                                    and self.encoder == "bar_bidirectional"):
      raise ValueError("model.bar_latent_dim needs the hrnnvae family with the conductor "
                       "(model.hierarchical=True) and model.encoder='bar_bidirectional'")
    if self.bar_latent_dim < 0:
      raise ValueError(f"model.bar_latent_dim must be 0 (off) or positive, not {self.bar_latent_dim}")
    if not 0.0 <= self.bar_latent_dropout < 1.0:
      raise ValueError(f"model.bar_latent_dropout must be in [0, 1), not {self.bar_latent_dropout}")
    if self.bar_latent_dropout and not (self.bar_latent_dim and self.bar_latent_prior == "standard"):
      raise ValueError("model.bar_latent_dropout needs bar latents (model.bar_latent_dim > 0) under "
                       "the standard prior (model.bar_latent_prior='standard')")
    if self.bar_adapter_dim < 0:
      raise ValueError(f"model.bar_adapter_dim must be 0 (off) or positive, not "
                       f"{self.bar_adapter_dim}")
    if self.bar_adapter_dim and not self.prior_drops_bar_latents:
      raise ValueError("model.bar_adapter_dim needs bar latents dropped in training "
                       "(model.bar_latent_dim > 0 and model.bar_latent_dropout > 0): it reads the "
                       "bars' latents beside a decoder that also writes from z alone")
    if self.adapter_tune_steps < 0 or (self.adapter_tune_steps and not self.bar_adapter_dim):
      raise ValueError(f"adapter_tune_steps must be 0 (off), or positive with the bar adapter "
                       f"(bar_adapter_dim > 0), not {self.adapter_tune_steps}")
    if self.decoder == "bar_reset" and not self.hierarchical:
      raise ValueError("model.decoder='bar_reset' needs the conductor (model.hierarchical=True)")
