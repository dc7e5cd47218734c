"""files -> NoteSequences -> melody windows -> emotion labels -> cache, with every skip counted."""

from __future__ import annotations

import collections
import dataclasses
import hashlib
import json

import numpy as np
import tqdm

import hrnnvae
from hrnnvae import progress as progress_lib
from hrnnvae.data import cache as cache_lib
from hrnnvae.data import emotion as emotion_lib
from hrnnvae.data import events as events_lib
from hrnnvae.data import sources as sources_lib
from hrnnvae.data import windows as windows_lib

DATASETS = ("nottingham", "jsb_chorales", "midi_dir", "bach_music21")


@dataclasses.dataclass(frozen=True)
class PrepareOptions:
  num_bars: int = 16
  hop_bars: int = 4
  min_bars: int = 2
  transpose: int = 0  # train-split copies shifted by -k..+k semitones (those that stay in range)


def make_source(dataset: str, source: str | None, limit: int | None = None):
  """The reader for `dataset`; MissingDataError (naming the fix) when its files are absent."""
  if dataset == "bach_music21":
    return sources_lib.BachMusic21Source(limit=limit)
  if not source:
    raise sources_lib.MissingDataError(
        f"--source is required for {dataset}: "
        + ("a folder of MIDI files" if dataset == "midi_dir" else
           f"run `hrnnvae-data download --dataset={dataset} --out=DIR`, then pass --source=DIR"))
  readers = {"nottingham": sources_lib.NottinghamSource,
             "jsb_chorales": sources_lib.JsbChoralesSource,
             "midi_dir": sources_lib.MidiDirSource}
  if dataset not in readers:
    raise ValueError(f"unknown dataset {dataset!r}; choose one of {', '.join(DATASETS)}")
  reader = readers[dataset](source)
  if limit and hasattr(reader, "paths"):
    reader.paths = reader.paths[:limit]
  return reader


def _fingerprint(source, options: PrepareOptions) -> str:
  payload = json.dumps({"dataset": source.dataset, "source": source.fingerprint(),
                        "options": dataclasses.asdict(options),
                        "version": hrnnvae.__version__}, sort_keys=True)
  return hashlib.sha256(payload.encode()).hexdigest()


def skip_summary(read: int, used: int, reasons: collections.Counter) -> str:
  """'1034 read, 1031 used, 3 skipped: 2 corrupt, 1 empty'."""
  line = f"{read} read, {used} used, {read - used} skipped"
  if reasons:
    ordered = sorted(reasons.items(), key=lambda item: (-item[1], item[0]))
    line += ": " + ", ".join(f"{n} {reason}" for reason, n in ordered)
  return line


def _stack_windows(windows: list[windows_lib.Window], num_voices: int) -> dict[str, np.ndarray]:
  max_steps = max(len(w.events) for w in windows)
  events = np.full((len(windows), max_steps), events_lib.HOLD, np.int8)
  voices = np.full((len(windows), max_steps, num_voices), -1, np.int8) if num_voices else None
  for row, window in enumerate(windows):
    events[row, :len(window.events)] = window.events
    if voices is not None:
      voices[row, :len(window.events)] = window.voices
  arrays = {
      "events": events,
      "lengths": np.array([len(w.events) for w in windows], np.int16),
      "steps_per_bar": np.array([w.steps_per_bar for w in windows], np.int16),
      "time_signature": np.array([w.time_signature for w in windows], np.int16),
      "qpm": np.array([w.qpm for w in windows], np.float32),
      "segment": np.array([w.segment for w in windows], np.int16),
      "start_bar": np.array([w.start_bar for w in windows], np.int16),
      "transposition": np.zeros(len(windows), np.int8),
  }
  if voices is not None:
    arrays["voices"] = voices
  return arrays


def _augment_transpositions(arrays: dict[str, np.ndarray], max_semitones: int
                            ) -> dict[str, np.ndarray]:
  """Appends train-split copies shifted by +-1..max_semitones where every pitch stays in range."""
  train = np.nonzero(arrays["split"] == sources_lib.SPLITS.index("train"))[0]
  down, up = events_lib.transposition_range(arrays["events"][train])
  copies = []
  for shift in range(-max_semitones, max_semitones + 1):
    fits = train[(shift != 0) & (down <= shift) & (shift <= up)]
    if not fits.size:
      continue
    copy = {name: values[fits] for name, values in arrays.items()}
    copy["events"] = events_lib.transpose_events(copy["events"], shift)
    copy["transposition"] = np.full(fits.size, shift, np.int8)
    if "voices" in copy:
      copy["voices"] = np.where(copy["voices"] >= 0, copy["voices"] + shift, -1).astype(np.int8)
    copies.append(copy)
  return {name: np.concatenate([values] + [c[name] for c in copies])
          for name, values in arrays.items()}


def prepare(source, out_dir: str, options: PrepareOptions = PrepareOptions(),
            force: bool = False, progress: bool = True, log=print) -> dict:
  """Prepares `source` into the cache at `out_dir` (reused when unchanged); returns the manifest.

  log: gets the summary lines, and (without `progress`, the terminal's bar) a progress line every
  few seconds."""
  fingerprint = _fingerprint(source, options)
  if not force and cache_lib.is_fresh(out_dir, fingerprint):
    log(f"{out_dir}: cache is up to date ({source.dataset}); --force rebuilds it")
    return cache_lib.load_manifest(out_dir)

  window_options = windows_lib.WindowOptions(options.num_bars, options.hop_bars, options.min_bars)
  windows, piece_of_window, piece_names, piece_splits = [], [], [], []
  skipped, reasons, inside = [], collections.Counter(), collections.Counter()
  meter_changes, abc_modes = {}, {}
  num_voices, read = 0, 0
  heartbeat = progress_lib.Heartbeat(f"{source.dataset}: reading", len(source), "files", log)
  for piece in tqdm.tqdm(source.pieces(), total=len(source), disable=not progress,
                         desc=f"{source.dataset}", unit="file"):
    read += 1
    if not progress:  # a line every few seconds instead of the bar (logs, CI)
      heartbeat(read)
    try:
      if piece.skip_reason:
        raise windows_lib.Unusable(piece.skip_reason, piece.skip_detail)
      num_time_signatures = len(
          {(ts.numerator, ts.denominator) for ts in piece.sequence.time_signatures})
      piece_windows, dropped = windows_lib.piece_windows(
          piece.sequence, window_options, piece.melody_instrument, piece.num_voices)
    except windows_lib.Unusable as unusable:
      reasons[unusable.reason] += 1
      skipped.append({"file": piece.name, "reason": unusable.reason, "detail": unusable.detail})
      continue
    inside.update(dropped)
    if num_time_signatures > 1:
      meter_changes[piece.name] = {"segments": dropped["segments"],
                                   "short_segments_dropped": dropped["short_segments"],
                                   "windows": len(piece_windows)}
    if piece.abc_is_major is not None:
      abc_modes[len(piece_names)] = piece.abc_is_major
    num_voices = max(num_voices, piece.num_voices)
    piece_of_window += [len(piece_names)] * len(piece_windows)
    piece_names.append(piece.name)
    piece_splits.append(piece.split or sources_lib.hash_split(piece.name))
    windows += piece_windows
  used = len(piece_names)
  summary = skip_summary(read, used, reasons)
  log(f"{source.dataset}: {summary}")
  if not windows:
    raise sources_lib.MissingDataError(f"no usable tune in the {source.dataset} source ({summary})")

  arrays = _stack_windows(windows, num_voices)
  arrays["piece"] = np.array(piece_of_window, np.int32)
  arrays["piece_names"] = np.array(piece_names)
  arrays["split"] = np.array([sources_lib.SPLITS.index(piece_splits[p]) for p in piece_of_window],
                             np.int8)
  if options.transpose:  # per-window arrays only: piece_names is one row a piece
    names = arrays.pop("piece_names")
    arrays = _augment_transpositions(arrays, options.transpose)
    arrays["piece_names"] = names

  features = emotion_lib.melody_features(arrays["events"], arrays["lengths"],
                                         arrays["steps_per_bar"])
  # Thresholds come from the untransposed training split (all windows if a tiny source has none).
  fit_on = (arrays["split"] == 0) & (arrays["transposition"] == 0)
  thresholds_from = "train"
  if not fit_on.any():
    fit_on, thresholds_from = arrays["transposition"] == 0, "all splits (no training window)"
  train_features = emotion_lib.Features.from_array(features.as_array()[fit_on])
  thresholds = emotion_lib.ArousalThresholds.fit(train_features)
  arrays["features"] = features.as_array()
  arrays["emotion"] = emotion_lib.emotion_labels(features, thresholds)

  manifest = {
      "dataset": source.dataset,
      "library_version": hrnnvae.__version__,
      "fingerprint": fingerprint,
      "source_fingerprint": source.fingerprint(),
      "options": dataclasses.asdict(options),
      "steps_per_quarter": events_lib.STEPS_PER_QUARTER,
      "num_classes": events_lib.NUM_CLASSES,
      "emotions": list(emotion_lib.EMOTIONS),
      "feature_names": list(emotion_lib.FEATURE_NAMES),
      "arousal_thresholds": dataclasses.asdict(thresholds),
      "arousal_thresholds_from": thresholds_from,
      "files": {"read": read, "used": used, "skipped": read - used,
                "skip_reasons": dict(reasons), "summary": summary},
      "skipped": skipped,
      "dropped_inside_used_files": dict(inside),
      "meter_changes": meter_changes,
      "split_of_piece": dict(zip(piece_names, piece_splits)),
      "split_sizes": {
          "pieces": {s: piece_splits.count(s) for s in sources_lib.SPLITS},
          "examples": {s: int((arrays["split"] == i).sum())
                       for i, s in enumerate(sources_lib.SPLITS)}},
      "abc_mode_agreement": _abc_agreement(arrays, abc_modes),
  }
  cache_lib.save(out_dir, arrays, manifest)
  return manifest


def empty_split_warnings(manifest: dict) -> list[str]:
  """One line per split with no windows, saying what breaks and what to change."""
  needs = {"train": "hrnnvae-train", "valid": "hrnnvae-train (validation)", "test": "hrnnvae-eval"}
  sizes = manifest["split_sizes"]
  return [f"the {split} split is empty ({sizes['pieces'][split]} pieces of "
          f"{manifest['files']['used']}), so {needs[split]} will refuse this cache: prepare more "
          "tunes (the whole dataset, without --limit)"
          for split in sources_lib.SPLITS if not sizes["examples"][split]]


def _abc_agreement(arrays: dict[str, np.ndarray], abc_modes: dict[int, bool]) -> dict | None:
  """How often the estimated mode of a tune's windows (majority vote) matches its ABC `K:`."""
  if not abc_modes:
    return None
  original = arrays["transposition"] == 0
  is_major = arrays["features"][:, emotion_lib.FEATURE_NAMES.index("is_major")] > 0.5
  agree = 0
  for piece, abc_major in abc_modes.items():
    votes = is_major[original & (arrays["piece"] == piece)]
    agree += int((votes.mean() >= 0.5) == abc_major)
  return {"tunes": len(abc_modes), "agree": agree, "rate": agree / len(abc_modes)}
