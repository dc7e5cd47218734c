"""Melody events: the skyline, the exact round trip through MIDI, transposition."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from note_seq import midi_io

from hrnnvae.data import events as events_lib

from conftest import melody


def _round_trip_through_midi(events, tmp_path, qpm=120.0, numerator=4, denominator=4):
  sequence = events_lib.events_to_note_sequence(events, qpm, numerator, denominator)
  path = tmp_path / "melody.mid"
  midi_io.note_sequence_to_midi_file(sequence, str(path))
  parsed = events_lib.quantize(midi_io.midi_file_to_note_sequence(str(path)))
  return events_lib.quantized_melody_events(parsed, num_steps=len(events))


def test_class_layout_matches_musicvae():
  assert events_lib.NUM_CLASSES == 90
  assert events_lib.pitch_to_event(21) == 2 and events_lib.pitch_to_event(108) == 89
  assert events_lib.event_to_pitch(np.array([2, 89])).tolist() == [21, 108]


def test_skyline_keeps_the_highest_note():
  # A bass C3 held for 8 steps under a melody E4 (steps 0-3) then G4 (steps 4-7).
  starts, ends, pitches = np.array([0, 0, 4]), np.array([8, 4, 8]), np.array([48, 64, 67])
  events = events_lib.skyline_from_notes(starts, ends, pitches, 10)
  expected = [events_lib.pitch_to_event(64), 0, 0, 0, events_lib.pitch_to_event(67), 0, 0, 0,
              events_lib.NOTE_OFF, 0]
  assert events.tolist() == expected


def test_skyline_restrikes_a_repeated_note_and_falls_back_to_a_lower_one():
  # Two D5s back to back, then a higher note ends while a lower one still sounds.
  starts, ends, pitches = np.array([0, 2, 4, 4]), np.array([2, 4, 8, 6]), np.array([74, 74, 60, 72])
  events = events_lib.skyline_from_notes(starts, ends, pitches, 8)
  e = events_lib.pitch_to_event
  assert events.tolist() == [e(74), 0, e(74), 0, e(72), 0, e(60), 0]


def test_events_to_notes_inverts_a_written_melody():
  events = melody((60, 4), (None, 2), (62, 2), (62, 8), steps=16)
  assert events_lib.events_to_notes(events) == [(0, 4, 60), (6, 8, 62), (8, 16, 62)]


@pytest.mark.parametrize("meter", [(4, 4), (6, 8), (3, 4)])
def test_midi_round_trip_is_exact(tmp_path, meter):
  events = melody((60, 4), (64, 2), (None, 2), (67, 3), (67, 1), (72, 8), (71, 4), steps=32)
  np.testing.assert_array_equal(_round_trip_through_midi(events, tmp_path, 96.0, *meter), events)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from([0, 0, 0, 1, 2, 40, 41, 53, 60, 89]), min_size=1, max_size=64))
def test_midi_round_trip_of_any_melody(tmp_path_factory, raw_events):
  events = np.array(raw_events, np.int8)
  # A NOTE_OFF in a rest is a no-op: the canonical form writes a HOLD there.
  notes = np.array(events_lib.events_to_notes(events), np.int64).reshape(-1, 3)
  canonical = events_lib.skyline_from_notes(notes[:, 0], notes[:, 1], notes[:, 2], len(events))
  np.testing.assert_array_equal(
      _round_trip_through_midi(events, tmp_path_factory.mktemp("midi")), canonical)


def test_transposition_moves_pitches_only_and_stays_in_range():
  events = np.array([[events_lib.pitch_to_event(60), 0, 1, events_lib.pitch_to_event(107)],
                     [0, 0, 0, 0]], np.int8)
  down, up = events_lib.transposition_range(events)
  assert down.tolist() == [21 - 60, 0] and up.tolist() == [1, 0]
  shifted = events_lib.transpose_events(events, np.array([1, 0]))
  e = events_lib.pitch_to_event
  assert shifted[0].tolist() == [e(61), 0, 1, e(108)]
  assert shifted[1].tolist() == [0, 0, 0, 0]


def test_steps_per_bar():
  assert events_lib.steps_per_bar(4, 4) == 16
  assert events_lib.steps_per_bar(6, 8) == 12
  assert events_lib.steps_per_bar(9, 8) == 18
  assert events_lib.steps_per_bar(3, 32) is None
