"""The prepared-data cache: one compressed `examples.npz` and a JSON `manifest.json` per dataset.

Training reads only this. Arrays (N examples, S = longest window in steps, V voices):
  events [N, S] int8          melody events, HOLD-padded past `lengths`
  lengths [N] int16           real steps
  steps_per_bar [N] int16
  time_signature [N, 2] int16 (numerator, denominator)
  qpm [N] float32
  emotion [N] int8            index into emotion.EMOTIONS
  features [N, F] float32     emotion.FEATURE_NAMES
  split [N] int8              index into sources.SPLITS
  piece [N] int32             index into piece_names
  piece_names [P] str
  segment, start_bar [N] int16  where in the piece the window starts
  transposition [N] int8      semitones of augmentation (0 = as written)
  voices [N, S, V] int8       all voices' pitches, -1 silent (chorale datasets only)
No array holds Python objects, so loading never unpickles.
"""

from __future__ import annotations

import json
import os
import pathlib

import numpy as np

EXAMPLES_FILE = "examples.npz"
MANIFEST_FILE = "manifest.json"


class CacheError(Exception):
  """A cache that is missing or unreadable; the message names the fix."""


def save(out_dir: str | os.PathLike, arrays: dict[str, np.ndarray], manifest: dict) -> None:
  """Writes both files atomically (a crash never leaves a half-written cache behind)."""
  out_dir = pathlib.Path(out_dir)
  out_dir.mkdir(parents=True, exist_ok=True)
  examples_tmp = out_dir / (EXAMPLES_FILE + ".tmp.npz")
  np.savez_compressed(examples_tmp, **arrays)
  manifest_tmp = out_dir / (MANIFEST_FILE + ".tmp")
  manifest_tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True))
  os.replace(examples_tmp, out_dir / EXAMPLES_FILE)
  os.replace(manifest_tmp, out_dir / MANIFEST_FILE)


def load_manifest(cache_dir: str | os.PathLike) -> dict | None:
  """The manifest, or None when there is none (or it is unreadable)."""
  path = pathlib.Path(cache_dir) / MANIFEST_FILE
  try:
    return json.loads(path.read_text())
  except (OSError, ValueError):
    return None


def load(cache_dir: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict]:
  """(arrays, manifest) of a prepared cache; CacheError naming the fix when absent."""
  cache_dir = pathlib.Path(cache_dir)
  manifest = load_manifest(cache_dir)
  examples = cache_dir / EXAMPLES_FILE
  if manifest is None or not examples.is_file():
    raise CacheError(f"no prepared data in {cache_dir}: run "
                     f"`hrnnvae-data prepare --dataset=... --out={cache_dir}` first")
  try:
    with np.load(examples, allow_pickle=False) as data:
      arrays = {name: data[name] for name in data.files}
  except (OSError, ValueError) as error:
    raise CacheError(f"{examples} is unreadable ({error}): prepare it again with --force") from error
  return arrays, manifest


def is_fresh(cache_dir: str | os.PathLike, fingerprint: str) -> bool:
  """True when the cache was made from the same input, options and library version."""
  manifest = load_manifest(cache_dir)
  return (manifest is not None and manifest.get("fingerprint") == fingerprint
          and (pathlib.Path(cache_dir) / EXAMPLES_FILE).is_file())
