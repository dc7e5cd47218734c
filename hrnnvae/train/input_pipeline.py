"""Batches from the prepared cache: numpy only, fixed shapes, a fresh permutation each epoch.

Training never parses MIDI: it reads `examples.npz` once and slices arrays.

Bucketing by bar length: a 16-bar window of 3/4 has 192 steps, of 4/4 256, of 3/2 384, but the
cache pads every window to the longest. With `bucketed`, each batch holds windows of one bucket
of steps_per_bar (e.g. 8-12, 16, 18-24) and is cropped to max_bars * the bucket's widest bar, so
the step costs what its music needs; each bucket's shape compiles once. A bucket with fewer than
`min_share` of the windows joins the next wider one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import numpy as np

from hrnnvae.data import cache as cache_lib
from hrnnvae.data import events as events_lib
from hrnnvae.data import sources as sources_lib

Batch = dict[str, np.ndarray]  # events [B, T] int32; lengths, steps_per_bar, emotion, weight,
#                                 start_bar (the window's first bar in its tune) [B]


@dataclasses.dataclass(frozen=True)
class Split:
  events: np.ndarray  # [N, T] int32
  lengths: np.ndarray  # [N] int32
  steps_per_bar: np.ndarray  # [N] int32
  emotion: np.ndarray  # [N] int32
  start_bar: np.ndarray | None = None  # [N] int32, where each window starts in its tune (0s: None)

  def __len__(self) -> int:
    return len(self.events)

  def take(self, rows: np.ndarray, weight: np.ndarray | None = None) -> Batch:
    return {"events": self.events[rows], "lengths": self.lengths[rows],
            "steps_per_bar": self.steps_per_bar[rows], "emotion": self.emotion[rows],
            "weight": np.ones(len(rows), np.float32) if weight is None else weight,
            "start_bar": (np.zeros(len(rows), np.int32) if self.start_bar is None
                          else self.start_bar[rows])}


@dataclasses.dataclass(frozen=True)
class Data:
  splits: dict[str, Split]
  num_steps: int  # T
  min_steps_per_bar: int
  max_steps_per_bar: int
  max_bars: int  # the most bars in any window
  facts: dict  # what writing MIDI needs: dataset, meter, steps_per_bar, qpm, emotion names
  arrays: dict  # the cache's arrays (data/cache.py), events and lengths cropped as above


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
                         arrays["emotion"][rows].astype(np.int32),
                         arrays["start_bar"][rows].astype(np.int32))
  steps_per_bar = arrays["steps_per_bar"]
  meters, counts = np.unique(arrays["time_signature"], axis=0, return_counts=True)
  meter = meters[counts.argmax()].tolist()
  facts = {"dataset": manifest["dataset"], "time_signature": meter,
           "steps_per_bar": int(events_lib.steps_per_bar(*meter)),
           "qpm": float(np.median(arrays["qpm"])), "emotions": manifest["emotions"],
           "arousal_thresholds": manifest["arousal_thresholds"],
           "num_steps": int(events.shape[1])}
  max_bars = int(np.max(-(-lengths // np.maximum(steps_per_bar, 1)))) if len(lengths) else 1
  facts["max_bars"] = max_bars
  cropped = {**arrays, "events": events, "lengths": lengths}
  return Data(splits, events.shape[1], int(steps_per_bar.min()), int(steps_per_bar.max()),
              max_bars, facts, cropped)


def real_span_arrays(data: Data, config) -> dict:
  """The cache's arrays the realism term's real spans are joined from (loss.realism_real_bars):
  whole windows even where data.max_steps cropped `data`'s (the cache is read again only then)."""
  if config.loss.realism_real_bars and config.data.max_steps:
    return load(config.data.cache_dir).arrays
  return data.arrays


def bar_buckets(split: Split, batch_size: int, min_share: float = 0.1) -> list[int]:
  """The widest bar (steps) of each bucket, ascending: one per steps_per_bar in the split; a
  bucket with fewer than min_share of the windows (or than one batch) joins the next wider one;
  the widest bars keep a bucket of their own unless they fill less than one batch. Fewer
  buckets, fewer compilations."""
  widths, counts = np.unique(split.steps_per_bar, return_counts=True)
  least = max(min_share * len(split), batch_size)
  buckets, pending = [], 0
  for width, count in zip(widths.tolist(), counts.tolist()):
    pending += count
    if pending >= least:
      buckets.append(width)
      pending = 0
  if pending and len(buckets) and pending < batch_size:
    buckets[-1] = int(widths[-1])  # too few for one batch: widen the last bucket
  elif pending or not buckets:
    buckets.append(int(widths[-1]))  # the widest bars, fewer than min_share: their own bucket
  return buckets


def bucket_of(steps_per_bar: np.ndarray, buckets: list[int]) -> np.ndarray:
  """Index of the narrowest bucket that holds each window's bar."""
  return np.searchsorted(np.asarray(buckets), steps_per_bar, side="left")


def _crop(batch: Batch, num_steps: int) -> Batch:
  return {**batch, "events": batch["events"][:, :num_steps]}


def bucketed_batches(split: Split, batch_size: int, seed: int, epoch: int, buckets: list[int],
                     max_bars: int, start: int = 0) -> Iterator[tuple[Batch, int]]:
  """(batch cropped to its bucket's steps, bucket width) for one epoch: full batches of one
  bucket each, in an order fixed by (seed, epoch); from batch `start` on (for resuming)."""
  plan = epoch_plan(split, batch_size, seed, epoch, buckets)
  for rows, width in plan[start:]:
    yield _crop(split.take(rows), max_bars * width), width


def endless_batches(split: Split, batch_size: int, seed: int, max_bars: int,
                    buckets: list[int] | None = None) -> Iterator[tuple[Batch, int]]:
  """bucketed_batches of epoch 0, 1, 2, ... in turn, without end (the post-training fits, which
  count steps, not epochs), over `buckets` (default the split's bar_buckets; train_buckets)."""
  buckets = bar_buckets(split, batch_size) if buckets is None else buckets
  epoch = 0
  while True:
    yield from bucketed_batches(split, batch_size, seed, epoch, buckets, max_bars)
    epoch += 1


def train_buckets(data: Data, batch_size: int, bucket_by_bar: bool) -> list[int]:
  """The buckets training batches the training split in (config.train.bucket_by_bar), and so the
  post-training fits and the benchmarks: bar_buckets, or one bucket as wide as the data's widest
  bar (one compiled step; the tiny test config's choice)."""
  if bucket_by_bar:
    return bar_buckets(data.splits["train"], batch_size)
  return [data.max_steps_per_bar]


def epoch_plan(split: Split, batch_size: int, seed: int, epoch: int,
               buckets: list[int]) -> list[tuple[np.ndarray, int]]:
  """[(rows, bucket width)] of one epoch's full batches."""
  rng = np.random.default_rng([seed, epoch])
  which = bucket_of(split.steps_per_bar, buckets)
  plan = []
  for index, width in enumerate(buckets):
    rows = rng.permutation(np.nonzero(which == index)[0])
    plan += [(rows[b * batch_size:(b + 1) * batch_size], width)
             for b in range(len(rows) // batch_size)]
  return [plan[i] for i in rng.permutation(len(plan))]


def bucketed_eval_batches(split: Split, batch_size: int, buckets: list[int],
                          max_bars: int) -> Iterator[tuple[Batch, int]]:
  """Every example once, grouped by bucket; padded rows have weight 0."""
  which = bucket_of(split.steps_per_bar, buckets)
  for index, width in enumerate(buckets):
    rows_of_bucket = np.nonzero(which == index)[0]
    for begin in range(0, len(rows_of_bucket), batch_size):
      rows = rows_of_bucket[begin:begin + batch_size]
      weight = np.ones(batch_size, np.float32)
      weight[len(rows):] = 0.0
      yield _crop(split.take(np.resize(rows, batch_size), weight), max_bars * width), width
