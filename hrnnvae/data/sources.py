"""Readers that turn each dataset's files into NoteSequences, one `Piece` per tune.

Every file is untrusted: a reader never raises on a bad file; it yields a Piece with a
`skip_reason` instead, so the pipeline can count and list it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import pathlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

from hrnnvae.data import emotion as emotion_lib

if TYPE_CHECKING:  # note-seq is imported where files are parsed (training never parses)
  from note_seq.protobuf import music_pb2

MAX_FILE_BYTES = 8 * 1024 * 1024  # the largest real tune here is ~20 kB; larger is "too_large"
MAX_JSON_BYTES = 64 * 1024 * 1024
MIDI_SUFFIXES = (".mid", ".midi")
SPLITS = ("train", "valid", "test")


class MissingDataError(Exception):
  """The dataset is not where the user said; the message names the fix."""


@dataclasses.dataclass
class Piece:
  """One tune (or chorale) read from a source, or the reason it could not be read."""
  name: str
  sequence: music_pb2.NoteSequence | None = None
  skip_reason: str | None = None
  skip_detail: str = ""
  split: str | None = None  # an official split; None means "by hash of the name"
  melody_instrument: int | None = None  # None: skyline over all instruments
  num_voices: int = 0  # >0 keeps a [steps, num_voices] pitch grid (chorales)
  abc_is_major: bool | None = None  # the mode written in the ABC `K:` field, to check ours


def hash_split(name: str) -> str:
  """Deterministic 80/10/10 split from a stable hash of the tune's name."""
  bucket = int(hashlib.sha256(name.encode("utf-8")).hexdigest()[:8], 16) % 100
  return "train" if bucket < 80 else ("valid" if bucket < 90 else "test")


def _fingerprint_files(root: pathlib.Path, paths: list[pathlib.Path]) -> str:
  digest = hashlib.sha256()
  for path in paths:
    digest.update(str(path.relative_to(root)).encode())
    try:
      with open(path, "rb") as f:
        digest.update(hashlib.sha256(f.read(MAX_FILE_BYTES + 1)).digest())
    except OSError as error:
      digest.update(repr(error).encode())
  return digest.hexdigest()


def read_midi_piece(name: str, path: pathlib.Path) -> Piece:
  """Parses one MIDI file, returning a Piece with a sequence or a skip reason."""
  try:
    size = path.stat().st_size
    if size == 0:
      return Piece(name, skip_reason="empty", skip_detail="0 bytes")
    if size > MAX_FILE_BYTES:
      return Piece(name, skip_reason="too_large", skip_detail=f"{size} bytes")
    data = path.read_bytes()
  except OSError as error:
    return Piece(name, skip_reason="unreadable", skip_detail=str(error))
  return midi_bytes_to_piece(name, data)


def midi_bytes_to_piece(name: str, data: bytes) -> Piece:
  """Parses MIDI bytes; any parser failure is a 'corrupt' skip, never an exception."""
  from note_seq import midi_io  # noqa: PLC0415
  try:
    sequence = midi_io.midi_to_note_sequence(data)
  except Exception as error:  # noqa: BLE001 - the parser raises many types on bad bytes
    return Piece(name, skip_reason="corrupt", skip_detail=f"{type(error).__name__}: {error}"[:200])
  return Piece(name, sequence=sequence)


class MidiDirSource:
  """Every MIDI file under a folder (recursive), split 80/10/10 by hash of its relative path."""

  dataset = "midi_dir"

  def __init__(self, root: str | os.PathLike):
    self.root = pathlib.Path(root)
    if not self.root.is_dir():
      raise MissingDataError(
          f"no folder at {self.root}: pass --source=DIR, a folder that holds .mid files")
    self.paths = sorted(p for p in self.root.rglob("*")
                        if p.suffix.lower() in MIDI_SUFFIXES and p.is_file())
    if not self.paths:
      raise MissingDataError(f"no .mid or .midi files under {self.root}: pass --source=DIR")

  def __len__(self) -> int:
    return len(self.paths)

  def fingerprint(self) -> str:
    return _fingerprint_files(self.root, self.paths)

  def _name(self, path: pathlib.Path) -> str:
    return str(path.relative_to(self.root).with_suffix(""))

  def pieces(self) -> Iterator[Piece]:
    for path in self.paths:
      yield read_midi_piece(self._name(path), path)


def read_abc_modes(abc_dir: pathlib.Path) -> dict[str, bool]:
  """{'jigs12': is_major} from the first `K:` field of each tune in Nottingham's ABC files."""
  modes = {}
  for abc_file in sorted(abc_dir.glob("*.abc")):
    tune_number = None
    for line in abc_file.read_text(encoding="utf-8", errors="replace").splitlines():
      if line.startswith("X:"):
        tune_number = line[2:].strip()
      elif line.startswith("K:") and tune_number is not None:
        is_major = emotion_lib.abc_key_is_major(line[2:])
        if is_major is not None:
          modes[f"{abc_file.stem}{tune_number}"] = is_major
        tune_number = None
  return modes


class NottinghamSource(MidiDirSource):
  """Jukedeck's cleaned Nottingham MIDI melodies (`MIDI/melody/*.mid`), split 80/10/10 by hash.

  `root` is the dataset folder (holding `MIDI/melody/` and, optionally, `ABC_cleaned/`, whose `K:`
  fields are kept to check the estimated mode).
  """

  dataset = "nottingham"

  def __init__(self, root: str | os.PathLike):
    root = pathlib.Path(root)
    melody_dir = root / "MIDI" / "melody"
    if not melody_dir.is_dir():
      raise MissingDataError(
          f"Nottingham not found at {root} (no MIDI/melody/ folder): run "
          f"`hrnnvae-data download --dataset=nottingham --out={root}` or pass --source=DIR")
    super().__init__(melody_dir)
    abc_dir = root / "ABC_cleaned"
    self.abc_modes = read_abc_modes(abc_dir) if abc_dir.is_dir() else {}

  def _name(self, path: pathlib.Path) -> str:
    return path.stem

  def pieces(self) -> Iterator[Piece]:
    for piece in super().pieces():
      piece.abc_is_major = self.abc_modes.get(piece.name)
      yield piece


JSB_FILE = "Jsb16thSeparated.json"
JSB_SECONDS_PER_STEP = 0.125  # a 16th at 120 qpm: the grid is exact, the tempo nominal


def _chorale_to_sequence(steps: list) -> music_pb2.NoteSequence:
  """A four-voice 16th-note grid ([[s, a, t, b] per step], -1 silent) to a NoteSequence.

  The grid cannot tell a held note from a repeated one (see the dataset's README): equal
  consecutive pitches in a voice are one held note, as in Coconet.
  """
  from note_seq.protobuf import music_pb2  # noqa: PLC0415
  if not isinstance(steps, list) or not steps:
    raise ValueError("a chorale must be a non-empty list of steps")
  sequence = music_pb2.NoteSequence(ticks_per_quarter=220)
  sequence.tempos.add(qpm=120.0)
  sequence.time_signatures.add(numerator=4, denominator=4)
  num_voices = 4
  for step in steps:
    if not isinstance(step, list) or len(step) != num_voices or not all(
        isinstance(p, (int, float)) and (p == -1 or 0 <= p <= 127) for p in step):
      raise ValueError(f"a step must be {num_voices} MIDI pitches or -1, got {str(step)[:40]}")
  for voice in range(num_voices):
    start, pitch = None, -1
    for index, step in enumerate(steps + [[-1] * num_voices]):
      current = int(step[voice])
      if current == pitch:
        continue
      if pitch >= 0:
        sequence.notes.add(pitch=pitch, velocity=80, instrument=voice,
                           start_time=start * JSB_SECONDS_PER_STEP,
                           end_time=index * JSB_SECONDS_PER_STEP)
      start, pitch = index, current
  sequence.total_time = len(steps) * JSB_SECONDS_PER_STEP
  return sequence


class JsbChoralesSource:
  """Bach chorales in Coconet's four-voice 16th-note form, Boulanger-Lewandowski's 229/76/77 split.

  The soprano (voice 0) is the melody; all four voices are kept as a pitch grid.
  """

  dataset = "jsb_chorales"

  def __init__(self, root: str | os.PathLike):
    root = pathlib.Path(root)
    self.path = root if root.is_file() else root / JSB_FILE
    if not self.path.is_file():
      raise MissingDataError(
          f"JSB Chorales not found at {self.path}: run "
          f"`hrnnvae-data download --dataset=jsb_chorales --out={root}` or pass --source=DIR")
    self.root = self.path.parent
    self._splits = None
    self._error = None
    try:
      if self.path.stat().st_size > MAX_JSON_BYTES:
        raise ValueError(f"{self.path.stat().st_size} bytes is too large")
      data = json.loads(self.path.read_text(encoding="utf-8"))
      if not isinstance(data, dict) or not all(isinstance(data.get(s), list) for s in SPLITS):
        raise ValueError("expected an object with lists 'train', 'valid' and 'test'")
      self._splits = {split: data[split] for split in SPLITS}
    except (OSError, ValueError, UnicodeDecodeError) as error:
      self._error = f"{type(error).__name__}: {error}"[:200]

  def __len__(self) -> int:
    return sum(map(len, self._splits.values())) if self._splits else 1

  def fingerprint(self) -> str:
    return _fingerprint_files(self.root, [self.path])

  def pieces(self) -> Iterator[Piece]:
    if self._splits is None:
      yield Piece(self.path.name, skip_reason="corrupt", skip_detail=self._error)
      return
    for split, chorales in self._splits.items():
      for index, steps in enumerate(chorales):
        name = f"{split}/{index:03d}"
        try:
          sequence = _chorale_to_sequence(steps)
        except ValueError as error:
          yield Piece(name, skip_reason="malformed", skip_detail=str(error), split=split)
          continue
        yield Piece(name, sequence=sequence, split=split, melody_instrument=0, num_voices=4)


class BachMusic21Source:
  """The four-part Bach chorales bundled with music21 (soprano melody), split by hash."""

  dataset = "bach_music21"

  def __init__(self, limit: int | None = None):
    from music21 import corpus  # noqa: PLC0415 - heavy import, only for this source
    self._corpus = corpus
    self.paths = sorted(corpus.getComposer("bach"), key=str)
    if limit:
      self.paths = self.paths[:limit]
    if not self.paths:
      raise MissingDataError("music21's corpus has no Bach files: reinstall music21")
    self.root = pathlib.Path(self.paths[0]).parent

  def __len__(self) -> int:
    return len(self.paths)

  def fingerprint(self) -> str:
    return _fingerprint_files(self.root, [pathlib.Path(p) for p in self.paths])

  def pieces(self) -> Iterator[Piece]:
    from music21 import midi  # noqa: PLC0415
    for path in self.paths:
      name = pathlib.Path(path).stem
      try:
        score = self._corpus.parse(path)
        parts = list(score.parts)
        if len(parts) != 4:
          yield Piece(name, skip_reason="not_four_voices", skip_detail=f"{len(parts)} parts")
          continue
        data = midi.translate.streamToMidiFile(score).writestr()
      except Exception as error:  # noqa: BLE001 - music21 raises many types on odd scores
        yield Piece(name, skip_reason="corrupt",
                    skip_detail=f"{type(error).__name__}: {error}"[:200])
        continue
      piece = midi_bytes_to_piece(name, data)
      piece.melody_instrument, piece.num_voices = 0, 4
      yield piece
