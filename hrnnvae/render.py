"""Melody events -> files a person can open: MIDI, WAV, a piano-roll PNG, and a summary."""

from __future__ import annotations

import os
import pathlib
import shutil

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - the backend must be chosen first
import numpy as np  # noqa: E402
import scipy.io.wavfile  # noqa: E402
from note_seq import midi_io, midi_synth  # noqa: E402

from hrnnvae.data import emotion as emotion_lib  # noqa: E402
from hrnnvae.data import events as events_lib  # noqa: E402

SAMPLE_RATE = 22050
PITCH_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
SOUNDFONT_ENV = "HRNNVAE_SOUNDFONT"  # a General MIDI .sf2 for FluidSynth, when installed


def pitch_name(pitch: int) -> str:
  return f"{PITCH_NAMES[pitch % 12]}{pitch // 12 - 1}"


def write_midi(events: np.ndarray, path: pathlib.Path, qpm: float, meter: tuple[int, int],
               program: int = 0):
  """A standard MIDI file with tempo, time signature and program; returns its NoteSequence."""
  sequence = events_lib.events_to_note_sequence(events, qpm, *meter, program=program)
  midi_io.note_sequence_to_midi_file(sequence, str(path))
  return sequence


def write_wav(sequence, path: pathlib.Path, seconds: float | None = None) -> str:
  """Renders audio: FluidSynth with $HRNNVAE_SOUNDFONT when both exist, else a sine synth.
  seconds: None, or the file's length (silence added or the tail cut), so that melodies of one
  length give files of one length whether or not they end on a rest."""
  soundfont = os.environ.get(SOUNDFONT_ENV)
  audio, synth = None, "sine"
  if soundfont and pathlib.Path(soundfont).is_file() and shutil.which("fluidsynth"):
    try:
      audio, synth = midi_synth.fluidsynth(sequence, SAMPLE_RATE, sf2_path=soundfont), "fluidsynth"
    except Exception:  # noqa: BLE001 - pyfluidsynth missing or broken: fall back to the sine synth
      audio = None
  if audio is None:
    audio = midi_synth.synthesize(sequence, SAMPLE_RATE)
  if seconds is not None:
    frames = int(round(seconds * SAMPLE_RATE))
    audio = np.pad(audio, (0, max(frames - len(audio), 0)))[:frames]
  peak = max(float(np.abs(audio).max()), 1e-9)
  scipy.io.wavfile.write(path, SAMPLE_RATE, (audio / peak * 0.8 * 32767).astype(np.int16))
  return synth


def _draw_roll(axes, events: np.ndarray, steps_per_bar: int, title: str) -> None:
  """One piano roll on `axes`: notes, bar lines, pitch names, bar numbers every 4 bars."""
  notes = events_lib.events_to_notes(events)
  pitches = [pitch for _, _, pitch in notes] or [60]
  low, high = min(pitches) - 2, max(pitches) + 2
  for start, end, pitch in notes:
    axes.add_patch(plt.Rectangle((start, pitch - 0.4), end - start, 0.8, color="tab:blue"))
  for bar_step in range(0, len(events) + 1, steps_per_bar):
    axes.axvline(bar_step, color="0.6", linewidth=0.6)
  axes.set_xlim(0, len(events))
  axes.set_ylim(low, high)
  ticks = [p for p in range(low, high + 1) if p % 12 in (0, 4, 7)]
  axes.set_yticks(ticks, [pitch_name(p) for p in ticks])
  axes.set_xticks(range(0, len(events) + 1, steps_per_bar * 4),
                  [str(1 + s // steps_per_bar) for s in range(0, len(events) + 1, steps_per_bar * 4)])
  axes.set_title(title, fontsize=10)


def write_piano_roll(events: np.ndarray, path: pathlib.Path, steps_per_bar: int, title: str) -> None:
  """A piano roll with bar lines and pitch names."""
  figure, axes = plt.subplots(figsize=(max(6.0, len(events) / 32), 3.2), dpi=100)
  _draw_roll(axes, events, steps_per_bar, title)
  axes.set_xlabel("bar")
  figure.tight_layout()
  figure.savefig(path)
  plt.close(figure)


def write_piano_rolls(melodies, titles, path: pathlib.Path, steps_per_bar: int) -> None:
  """Several piano rolls stacked in one picture (e.g. one melody per emotion), one title each."""
  longest = max(len(events) for events in melodies)
  figure, axes = plt.subplots(len(melodies), 1, figsize=(max(6.0, longest / 32), 2.4 * len(melodies)),
                              dpi=100, squeeze=False)
  for row, events, title in zip(axes[:, 0], melodies, titles):
    _draw_roll(row, events, steps_per_bar, title)
  axes[-1, 0].set_xlabel("bar")
  figure.tight_layout()
  figure.savefig(path)
  plt.close(figure)


def summary(events: np.ndarray, steps_per_bar: int) -> dict:
  """Per-melody facts for the manifest: notes, range, detected key, features."""
  notes = events_lib.events_to_notes(events)
  features = emotion_lib.melody_features(events[None], np.array([len(events)]),
                                         np.array([steps_per_bar]))
  pitches = [pitch for _, _, pitch in notes]
  return {
      "steps": int(len(events)), "bars": len(events) / steps_per_bar, "notes": len(notes),
      "pitch_range": [pitch_name(min(pitches)), pitch_name(max(pitches))] if pitches else None,
      "key": (f"{PITCH_NAMES[int(features.key_tonic[0])]} "
              f"{'major' if features.is_major[0] else 'minor'}") if pitches else None,
      "notes_per_bar": float(features.note_density[0]),
      "mean_abs_interval": float(features.mean_abs_interval[0]),
  }
