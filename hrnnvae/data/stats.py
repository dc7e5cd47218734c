"""A plain-text report of a prepared cache: splits, pitch range, emotions, skips."""

from __future__ import annotations

import numpy as np

from hrnnvae.data import emotion as emotion_lib
from hrnnvae.data import events as events_lib
from hrnnvae.data import sources as sources_lib


def label_table(arrays: dict[str, np.ndarray]) -> str:
  """Examples per emotion and split (as written, without transposed copies)."""
  original = arrays["transposition"] == 0
  header = f"{'split':<7}" + "".join(f"{name:>8}" for name in emotion_lib.EMOTIONS) + f"{'total':>8}"
  lines = [header]
  for index, split in enumerate(sources_lib.SPLITS):
    labels = arrays["emotion"][original & (arrays["split"] == index)]
    counts = np.bincount(labels, minlength=len(emotion_lib.EMOTIONS))
    lines.append(f"{split:<7}" + "".join(f"{c:>8}" for c in counts) + f"{labels.size:>8}")
  return "\n".join(lines)


def describe(arrays: dict[str, np.ndarray], manifest: dict) -> str:
  """The report `hrnnvae-data stats` prints."""
  lines = [f"dataset {manifest['dataset']} (hrnnvae {manifest['library_version']}), "
           f"options {manifest['options']}",
           f"files: {manifest['files']['summary']}"]
  if manifest["meter_changes"]:
    lines.append(f"meter changes: {len(manifest['meter_changes'])} tunes split at the change")
  for unit in ("pieces", "examples"):
    sizes = manifest["split_sizes"][unit]
    lines.append(f"{unit} per split: " + ", ".join(f"{s} {sizes[s]}" for s in sources_lib.SPLITS))
  augmented = int((arrays["transposition"] != 0).sum())
  if augmented:
    lines.append(f"  of which {augmented} transposed training copies")
  events = arrays["events"]
  for index, split in enumerate(sources_lib.SPLITS):
    in_split = events[arrays["split"] == index]
    pitched = in_split[in_split >= events_lib.FIRST_PITCH_EVENT]
    if pitched.size:
      low, high = events_lib.event_to_pitch(pitched.min()), events_lib.event_to_pitch(pitched.max())
      lines.append(f"pitch range {split}: MIDI {low}..{high}")
  steps = arrays["lengths"].astype(np.int64)
  meters = {tuple(m) for m in arrays["time_signature"].tolist()}
  lines.append(f"window length (steps): min {steps.min()}, median {int(np.median(steps))}, "
               f"max {steps.max()}; meters {sorted(meters)}")
  thresholds = manifest["arousal_thresholds"]
  lines.append(f"arousal thresholds (train medians): {thresholds['median_note_density']:.2f} "
               f"onsets/bar, {thresholds['median_mean_abs_interval']:.2f} semitones")
  features = arrays["features"][arrays["transposition"] == 0]
  lines.append("feature medians: " + ", ".join(
      f"{name} {np.median(features[:, i]):.2f}"
      for i, name in enumerate(emotion_lib.FEATURE_NAMES) if name != "key_tonic"))
  if manifest.get("abc_mode_agreement"):
    agreement = manifest["abc_mode_agreement"]
    lines.append(f"mode vs ABC K: field: {agreement['agree']}/{agreement['tunes']} tunes agree "
                 f"({100 * agreement['rate']:.1f}%)")
  lines.append("emotion labels (examples):")
  lines.append(label_table(arrays))
  return "\n".join(lines)
