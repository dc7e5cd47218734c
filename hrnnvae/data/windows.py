"""Quantized pieces -> bar-aligned training windows of melody events (and voice grids).

A piece whose time signature changes is split at each change (note-seq's
`split_note_sequence_on_time_changes`): each constant-meter segment is windowed on its own bar
length, so no window mixes meters. Segments shorter than `min_bars` are dropped and counted.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from note_seq import sequences_lib
from note_seq.protobuf import music_pb2

from hrnnvae.data import events as events_lib

MAX_SECONDS = 3600.0  # longer than an hour is not a tune: "too_long"
MAX_NOTES = 100_000


@dataclasses.dataclass(frozen=True)
class WindowOptions:
  num_bars: int = 16
  hop_bars: int = 4
  min_bars: int = 2


@dataclasses.dataclass
class Window:
  events: np.ndarray  # [steps] int8
  steps_per_bar: int
  start_bar: int  # within its segment
  segment: int
  qpm: float
  time_signature: tuple[int, int]
  voices: np.ndarray | None = None  # [steps, num_voices] int8 MIDI pitch, -1 silent


class Unusable(Exception):
  """A piece that gives no window; `reason` is a short category for the manifest."""

  def __init__(self, reason: str, detail: str = ""):
    super().__init__(f"{reason}: {detail}")
    self.reason, self.detail = reason, detail


def _voice_grid(quantized: music_pb2.NoteSequence, num_voices: int) -> np.ndarray:
  """[steps, num_voices] int8: the (highest) sounding pitch of each voice, -1 when silent."""
  steps = quantized.total_quantized_steps
  grid = np.full((steps, num_voices), -1, np.int16)
  for note in quantized.notes:
    if note.instrument < num_voices and not note.is_drum:
      end = min(max(note.quantized_end_step, note.quantized_start_step + 1), steps)
      column = grid[note.quantized_start_step:end, note.instrument]
      np.maximum(column, note.pitch, out=column)
  return grid.astype(np.int8)


def _check_usable(sequence: music_pb2.NoteSequence) -> None:
  if not sequence.notes:
    raise Unusable("empty", "no notes")
  if sequence.total_time > MAX_SECONDS or len(sequence.notes) > MAX_NOTES:
    raise Unusable("too_long", f"{sequence.total_time:.0f} s, {len(sequence.notes)} notes")
  pitched = [n for n in sequence.notes if not n.is_drum]
  if not pitched:
    raise Unusable("drum_only", f"{len(sequence.notes)} drum notes")
  if not any(events_lib.MIN_PITCH <= n.pitch <= events_lib.MAX_PITCH for n in pitched):
    raise Unusable("out_of_range", "no pitch within 21..108")


def _drop_repeated_time_changes(sequence: music_pb2.NoteSequence) -> None:
  """Removes time signatures and tempos equal to the one before (music21 repeats them per part)."""
  for field, key in ((sequence.time_signatures, lambda ts: (ts.numerator, ts.denominator)),
                     (sequence.tempos, lambda tempo: round(tempo.qpm, 6))):
    kept, previous = [], None
    for change in sorted(field, key=lambda change: change.time):
      if key(change) != previous:
        kept.append(type(change)())
        kept[-1].CopyFrom(change)
      previous = key(change)
    del field[:]
    field.extend(kept)


def _segments(sequence: music_pb2.NoteSequence) -> list[music_pb2.NoteSequence]:
  """Constant-tempo, constant-meter segments, quantized to 16ths."""
  _drop_repeated_time_changes(sequence)
  if len(sequence.time_signatures) <= 1 and len(sequence.tempos) <= 1:
    parts = [sequence]
  else:
    parts = sequences_lib.split_note_sequence_on_time_changes(sequence)
  try:
    return [events_lib.quantize(part) for part in parts]
  except Exception as error:  # noqa: BLE001 - note-seq raises its own error types
    raise Unusable("unquantizable", f"{type(error).__name__}: {error}"[:200]) from error


def _reattack(events: np.ndarray, start: int) -> int:
  """The event that starts a window at `start`: the note still sounding is struck again."""
  if events[start] != events_lib.HOLD:
    return int(events[start])
  previous = np.nonzero(events[:start] != events_lib.HOLD)[0]
  if previous.size and events[previous[-1]] >= events_lib.FIRST_PITCH_EVENT:
    return int(events[previous[-1]])
  return events_lib.HOLD


def piece_windows(sequence: music_pb2.NoteSequence, options: WindowOptions,
                  melody_instrument: int | None = None, num_voices: int = 0
                  ) -> tuple[list[Window], dict[str, int]]:
  """Bar-aligned windows of one piece, and counts of what was dropped inside it.

  Raises Unusable when the piece gives no window at all.
  """
  _check_usable(sequence)
  windows, dropped = [], {"short_segments": 0, "odd_meter_segments": 0, "silent_windows": 0}
  segments = _segments(sequence)
  for index, segment in enumerate(segments):
    signature = segment.time_signatures[0] if segment.time_signatures else None
    meter = (signature.numerator, signature.denominator) if signature else (4, 4)
    bar_steps = events_lib.steps_per_bar(*meter)
    if bar_steps is None:
      dropped["odd_meter_segments"] += 1
      continue
    melody = events_lib.quantized_melody_events(segment, melody_instrument)
    num_bars = -(-len(melody) // bar_steps)
    if num_bars < options.min_bars:
      dropped["short_segments"] += 1
      continue
    voices = _voice_grid(segment, num_voices) if num_voices else None
    qpm = segment.tempos[0].qpm if segment.tempos else 120.0
    last_start = max(num_bars - options.num_bars, 0)
    starts = list(range(0, last_start + 1, options.hop_bars))
    if starts[-1] != last_start:
      starts.append(last_start)  # cover the tail too
    for start_bar in starts:
      begin = start_bar * bar_steps
      end = min(begin + options.num_bars * bar_steps, len(melody))
      window_events = melody[begin:end].copy()
      window_events[0] = _reattack(melody, begin)
      if not (window_events >= events_lib.FIRST_PITCH_EVENT).any():
        dropped["silent_windows"] += 1
        continue
      windows.append(Window(
          events=window_events, steps_per_bar=bar_steps, start_bar=start_bar, segment=index,
          qpm=float(qpm), time_signature=meter,
          voices=None if voices is None else voices[begin:end]))
  if not windows:
    if dropped["odd_meter_segments"] == len(segments):
      raise Unusable("unsupported_meter", f"{len(segments)} segment(s) off the 16th grid")
    raise Unusable("too_short", f"under {options.min_bars} bars of melody")
  dropped["segments"] = len(segments)
  return windows, dropped


def melody_of(sequence: music_pb2.NoteSequence) -> tuple[np.ndarray, tuple[int, int], float]:
  """(events, meter, qpm) of a whole piece's first constant-meter segment, for encoding a user's
  MIDI file. Raises Unusable when it holds no melody on the 16th grid."""
  _check_usable(sequence)
  for segment in _segments(sequence):
    signature = segment.time_signatures[0] if segment.time_signatures else None
    meter = (signature.numerator, signature.denominator) if signature else (4, 4)
    melody = events_lib.quantized_melody_events(segment)
    if events_lib.steps_per_bar(*meter) and (melody >= events_lib.FIRST_PITCH_EVENT).any():
      return melody, meter, float(segment.tempos[0].qpm if segment.tempos else 120.0)
  raise Unusable("no_melody", "no segment with notes on the 16th grid")
