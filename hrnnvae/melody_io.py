"""A melody read from a MIDI file, at the edge: its highest-note line as events, and its meter.

The file goes the data pipeline's way (data/sources.read_midi_piece, then data/windows.melody_of),
so a tune given to hrnnvae-sample is the melody training would have taken from it. Writing goes
the other way in render.py.
"""

from __future__ import annotations

import pathlib

import numpy as np

from hrnnvae.data import sources as sources_lib
from hrnnvae.data import windows as windows_lib


class MidiError(Exception):
  """A path with no MIDI file, or a file with no usable melody; the message says which and why."""


def read_melody(path: str | pathlib.Path) -> tuple[np.ndarray, tuple[int, int]]:
  """(events [steps] int, meter (numerator, denominator)) of the file's highest-note line."""
  path = pathlib.Path(path)
  if not path.is_file():
    raise MidiError(f"no MIDI file at {path}")
  piece = sources_lib.read_midi_piece(path.stem, path)
  try:
    if piece.skip_reason:
      raise windows_lib.Unusable(piece.skip_reason, piece.skip_detail)
    events, meter, _ = windows_lib.melody_of(piece.sequence)
  except windows_lib.Unusable as unusable:
    raise MidiError(f"{path} has no usable melody ({unusable.reason}: {unusable.detail})") \
        from unusable
  return events, meter
