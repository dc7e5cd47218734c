"""Batches from the prepared cache: numpy only, fixed shapes, a fresh permutation each epoch.

Training never parses MIDI: it reads `examples.npz` once and slices arrays.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import numpy as np

from hrnnvae.data import cache as cache_lib
from hrnnvae.data import events as events_lib
from hrnnvae.data import sources as sources_lib

Batch = dict[str, np.ndarray]  # events [B, T] int32, lengths, steps_per_bar, emotion [B], weight [B]


@dataclasses.dataclass(frozen=True)
class Split:
  events: np.ndarray  # [N, T] int32
  lengths: np.ndarray  # [N] int32
  steps_per_bar: np.ndarray  # [N] int32
  emotion: np.ndarray  # [N] int32

  def __len__(self) -> int:
    return len(self.events)

  def take(self, rows: np.ndarray, weight: np.ndarray | None = None) -> Batch:
    return {"events": self.events[rows], "lengths": self.lengths[rows],
            "steps_per_bar": self.steps_per_bar[rows], "emotion": self.emotion[rows],
            "weight": np.ones(len(rows), np.float32) if weight is None else weight}


@dataclasses.dataclass(frozen=True)
class Data:
  splits: dict[str, Split]
  num_steps: int  # T
  min_steps_per_bar: int
  max_steps_per_bar: int
  facts: dict  # what writing MIDI needs: dataset, meter, steps_per_bar, qpm, emotion names


def load(cache_dir: str, max_steps: int = 0) -> Data:
  """The cache's splits, cropped to max_steps (0 keeps every step)."""
  arrays, manifest = cache_lib.load(cache_dir)
  events = arrays["events"].astype(np.int32)
  lengths = arrays["lengths"].astype(np.int32)
  if max_steps:
    events, lengths = events[:, :max_steps], np.minimum(lengths, max_steps)
  splits = {}
  for index, name in enumerate(sources_lib.SPLITS):
    rows = np.nonzero(arrays["split"] == index)[0]
    splits[name] = Split(events[rows], lengths[rows],
                         arrays["steps_per_bar"][rows].astype(np.int32),
                         arrays["emotion"][rows].astype(np.int32))
  steps_per_bar = arrays["steps_per_bar"]
  meters, counts = np.unique(arrays["time_signature"], axis=0, return_counts=True)
  meter = meters[counts.argmax()].tolist()
  facts = {"dataset": manifest["dataset"], "time_signature": meter,
           "steps_per_bar": int(events_lib.steps_per_bar(*meter)),
           "qpm": float(np.median(arrays["qpm"])), "emotions": manifest["emotions"],
           "arousal_thresholds": manifest["arousal_thresholds"],
           "num_steps": int(events.shape[1])}
  return Data(splits, events.shape[1], int(steps_per_bar.min()), int(steps_per_bar.max()), facts)


def steps_per_epoch(split: Split, batch_size: int) -> int:
  return len(split) // batch_size


def train_batches(split: Split, batch_size: int, seed: int, epoch: int,
                  start: int = 0) -> Iterator[Batch]:
  """Full batches of a permutation fixed by (seed, epoch), from batch `start` on (for resuming)."""
  order = np.random.default_rng([seed, epoch]).permutation(len(split))
  for index in range(start, steps_per_epoch(split, batch_size)):
    yield split.take(order[index * batch_size:(index + 1) * batch_size])


def eval_batches(split: Split, batch_size: int) -> Iterator[Batch]:
  """Every example once; the last batch is padded with weight-0 rows so shapes stay fixed."""
  for begin in range(0, len(split), batch_size):
    rows = np.arange(begin, min(begin + batch_size, len(split)))
    weight = np.ones(batch_size, np.float32)
    weight[len(rows):] = 0.0
    yield split.take(np.resize(rows, batch_size), weight)
