"""Melody events <-> quantized NoteSequences (MusicVAE's 90-class melody encoding).

Event classes, one per 16th-note step:
  0 (HOLD)      nothing new happens: the sounding note (or the rest) continues;
  1 (NOTE_OFF)  the sounding note stops; a rest begins;
  2..89         a note of MIDI pitch 21..108 starts (and stops any sounding note).

Monophonic extraction is a skyline: at every step the highest sounding note is the melody. A new
event is written where that skyline changes pitch or where a note of the skyline's pitch starts
again, so a melody with no overlapping notes round-trips exactly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # note-seq is imported where it is used: training and timing never need it
  from note_seq.protobuf import music_pb2

HOLD = 0
NOTE_OFF = 1
MIN_PITCH = 21
MAX_PITCH = 108
FIRST_PITCH_EVENT = 2
NUM_CLASSES = FIRST_PITCH_EVENT + MAX_PITCH - MIN_PITCH + 1  # 90
STEPS_PER_QUARTER = 4  # 16th-note grid
_SILENT = -1


def pitch_to_event(pitch: np.ndarray | int) -> np.ndarray | int:
  return pitch - MIN_PITCH + FIRST_PITCH_EVENT


def event_to_pitch(event: np.ndarray | int) -> np.ndarray | int:
  return event - FIRST_PITCH_EVENT + MIN_PITCH


def steps_per_bar(numerator: int, denominator: int) -> int | None:
  """16th-note steps in one bar of `numerator/denominator`; None when not a whole number."""
  steps = numerator * 4 * STEPS_PER_QUARTER / denominator
  return int(steps) if steps == int(steps) and steps > 0 else None


def skyline_from_notes(starts: np.ndarray, ends: np.ndarray, pitches: np.ndarray,
                       num_steps: int) -> np.ndarray:
  """Melody events [num_steps] int8 of the highest sounding note, from quantized notes.

  starts, ends: [notes] int step indices (end exclusive); pitches: [notes] MIDI pitches, all in
  [MIN_PITCH, MAX_PITCH]. Notes of zero length sound for one step (as a tie-less grace note).
  """
  sounding = np.full(num_steps + 1, _SILENT, np.int16)  # one step past the end for a final off
  onset_pitch = np.full(num_steps + 1, _SILENT, np.int16)
  inside = starts < num_steps
  starts, pitches = starts[inside], pitches[inside]
  ends = np.minimum(np.maximum(ends[inside], starts + 1), num_steps)
  for start, end, pitch in zip(starts, ends, pitches):
    sounding[start:end] = np.maximum(sounding[start:end], pitch)
    onset_pitch[start] = max(onset_pitch[start], pitch)
  previous = np.concatenate([[_SILENT], sounding[:-1]])
  restruck = (onset_pitch == sounding) & (sounding != _SILENT)
  starts_note = (sounding != _SILENT) & ((sounding != previous) | restruck)
  stops_note = (sounding == _SILENT) & (previous != _SILENT)
  events = np.full(num_steps + 1, HOLD, np.int8)
  events[stops_note] = NOTE_OFF
  events[starts_note] = pitch_to_event(sounding[starts_note])
  return events[:num_steps]


def events_to_notes(events: np.ndarray) -> list[tuple[int, int, int]]:
  """Inverse of the skyline: [(start_step, end_step, pitch)] for one melody's events [steps]."""
  notes = []
  current = None  # (start, pitch)
  for step, event in enumerate(np.asarray(events).tolist()):
    if event == HOLD:
      continue
    if current is not None:
      notes.append((current[0], step, current[1]))
      current = None
    if event >= FIRST_PITCH_EVENT:
      current = (step, int(event_to_pitch(event)))
  if current is not None:
    notes.append((current[0], len(events), current[1]))
  return notes


def quantized_melody_events(quantized: music_pb2.NoteSequence, instrument: int | None = None,
                            num_steps: int | None = None) -> np.ndarray:
  """Skyline melody events [num_steps] of a quantized NoteSequence.

  Drum notes and pitches outside 21..108 are ignored; `instrument` restricts to one voice.
  num_steps defaults to the sequence's own length (a MIDI file forgets trailing silence, so a
  round trip passes the length it started with).
  """
  notes = [n for n in quantized.notes
           if not n.is_drum and MIN_PITCH <= n.pitch <= MAX_PITCH
           and (instrument is None or n.instrument == instrument)]
  starts = np.array([n.quantized_start_step for n in notes], np.int64)
  ends = np.array([n.quantized_end_step for n in notes], np.int64)
  pitches = np.array([n.pitch for n in notes], np.int64)
  return skyline_from_notes(starts, ends, pitches,
                            num_steps or quantized.total_quantized_steps)


def events_to_note_sequence(events: np.ndarray, qpm: float = 120.0, numerator: int = 4,
                            denominator: int = 4, velocity: int = 90,
                            program: int = 0) -> music_pb2.NoteSequence:
  """An unquantized NoteSequence (seconds) of one melody's events [steps] on a 16th grid."""
  from note_seq.protobuf import music_pb2  # noqa: PLC0415
  sequence = music_pb2.NoteSequence()
  sequence.ticks_per_quarter = 220
  sequence.tempos.add(qpm=qpm)
  sequence.time_signatures.add(numerator=numerator, denominator=denominator)
  seconds_per_step = 60.0 / qpm / STEPS_PER_QUARTER
  for start, end, pitch in events_to_notes(events):
    sequence.notes.add(pitch=pitch, velocity=velocity, program=program,
                       start_time=start * seconds_per_step, end_time=end * seconds_per_step)
  sequence.total_time = len(events) * seconds_per_step
  return sequence


def quantize(sequence: music_pb2.NoteSequence) -> music_pb2.NoteSequence:
  """Quantizes to 16th notes (one tempo and one time signature expected)."""
  from note_seq import sequences_lib  # noqa: PLC0415
  return sequences_lib.quantize_note_sequence(sequence, STEPS_PER_QUARTER)


def transpose_events(events: np.ndarray, semitones: np.ndarray | int) -> np.ndarray:
  """Shifts every pitch event by `semitones` ([batch] or scalar); HOLD and NOTE_OFF stay put.

  events: [batch, steps] integer classes. The caller keeps results in range (see
  `transposition_range`).
  """
  events = np.asarray(events)
  shift = np.asarray(semitones, events.dtype)
  if shift.ndim == 1:
    shift = shift[:, None]
  return np.where(events >= FIRST_PITCH_EVENT, events + shift, events).astype(events.dtype)


def transposition_range(events: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
  """Per-melody (lowest, highest) semitone shift that keeps all pitches in 21..108.

  events: [batch, steps]. A melody with no notes can move by 0 only.
  """
  is_pitch = events >= FIRST_PITCH_EVENT
  lowest_event = np.where(is_pitch, events, NUM_CLASSES).min(axis=1).astype(np.int64)
  highest_event = np.where(is_pitch, events, -1).max(axis=1).astype(np.int64)
  has_notes = is_pitch.any(axis=1)
  down = np.where(has_notes, FIRST_PITCH_EVENT - lowest_event, 0)
  up = np.where(has_notes, NUM_CLASSES - 1 - highest_event, 0)
  return down, up
