"""The realism term's real side as whole spans of real tunes (loss.realism_real_bars).

The fine-tune's batch holds 16-bar windows, so a realism term that reads them can compare only
what a 16-bar window shows: 32-bar samples' form (phrases that differ yet restate whole bars,
a second part that moves) has nothing to be measured against, and a column pulled toward the
windows' figures pulls the samples toward 16-bar form (issue 19 (xxxii): within each 16-bar part
the windows restate 0.37-0.49 of their bars, while 32-bar tunes restate 0.58 of theirs, most of it
across the parts). With loss.realism_real_bars = N the real side is instead every untransposed
training-split span of N bars (evaluation/realism.real_tunes: windows joined within a tune), in
every meter, labelled by the judge, their style features computed once here (numpy at the edge,
the features by melody_mmd.style_features itself, so both sides are one function). The term
counts, for each batch, the spans of the batch's meters only.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from hrnnvae import melody_mmd
from hrnnvae.data import events as events_lib
from hrnnvae.evaluation import realism

CHUNK = 128  # spans a call of style_features reads (the one-hot rows of 128 32-bar spans: 24 MB)


class RealSpans(NamedTuple):
  features: jax.Array  # [M, F] style features, the term's own columns
  emotion: jax.Array  # [M] the judge's quadrant
  steps_per_bar: jax.Array  # [M]


def feature_options(loss_hp) -> dict:
  """style_features' keyword arguments for the realism term's columns."""
  return {"with_spread": loss_hp.realism_spread, "with_long_notes": loss_hp.realism_long_notes,
          "with_register": loss_hp.realism_register, "with_rests": loss_hp.realism_rests,
          "with_phrases": loss_hp.realism_phrases,
          "with_bar_repetition": loss_hp.realism_bar_repetition,
          "bar_part_bars": loss_hp.realism_bar_part_bars,
          "with_gram_repetition": loss_hp.realism_gram_repetition,
          "with_part_lift": loss_hp.realism_part_lift,
          "with_phrase_periods": loss_hp.realism_phrase_periods}


def real_spans(arrays, thresholds, loss_hp, split: str = "train") -> RealSpans:
  """Every untransposed span of loss_hp.realism_real_bars bars of the `split` (the training
  split: the term's real side; "valid": the held-out side loss.realism_heldout logs against) in
  each meter of the cache (`arrays`: data/cache.py's), labelled by the judge at the cache's
  arousal `thresholds`, with the realism term's features. A ValueError when there are none."""
  bars = loss_hp.realism_real_bars
  features, emotions, meters = [], [], []
  for steps_per_bar in np.unique(arrays["steps_per_bar"]):
    spans = realism.real_tunes(arrays, bars, int(steps_per_bar), thresholds, split=split)
    for start in range(0, len(spans.events), CHUNK):
      events = spans.events[start:start + CHUNK]
      count = len(events)
      # Compiled (op by op: 70 s of a fine-tune's start on the whole cache, 26-28 s so), the
      # last chunk padded to CHUNK rows so that every chunk of a meter is one program.
      if count < CHUNK and len(spans.events) > CHUNK:
        events = np.concatenate([events, np.repeat(events[:1], CHUNK - count, axis=0)])
      features.append(np.asarray(melody_mmd.compiled_style_features(
          jax.nn.one_hot(events, events_lib.NUM_CLASSES), jnp.asarray(events),
          jnp.full(len(events), events.shape[1]), jnp.full(len(events), int(steps_per_bar)),
          **feature_options(loss_hp)))[:count])
    emotions.append(spans.quadrants)
    meters.append(np.full(len(spans.events), steps_per_bar))
  if not features:
    name = {"train": "training", "valid": "validation"}.get(split, split)
    raise ValueError(f"loss.realism_real_bars={bars}: the cache's {name} split has no span of "
                     f"{bars} bars; lower it (0: the batch's own windows)"
                     + ("; or set loss.realism_heldout=False" if split != "train" else ""))
  return RealSpans(jnp.asarray(np.concatenate(features), jnp.float32),
                   jnp.asarray(np.concatenate(emotions), jnp.int32),
                   jnp.asarray(np.concatenate(meters), jnp.int32))


def batch_view(spans: RealSpans, steps_per_bar_B) -> jax.Array:
  """[M] each span's quadrant where its meter is one of the batch's, else -1 (it pairs with
  no sample: the per-quadrant MMD counts each quadrant's spans of the batch's meters only)."""
  present_M = (spans.steps_per_bar[:, None] == steps_per_bar_B[None, :]).any(1)
  return jnp.where(present_M, spans.emotion, -1)
