"""Untrusted files: every bad file is skipped with its reason counted; nothing crashes."""

import json
import shutil

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from note_seq import midi_io
from note_seq.protobuf import music_pb2

from hrnnvae.data import cache as cache_lib
from hrnnvae.data import prepare as prepare_lib
from hrnnvae.data import sources as sources_lib


def _write_sequence(path, notes, is_drum=False):
  sequence = music_pb2.NoteSequence(ticks_per_quarter=220)
  sequence.tempos.add(qpm=120)
  for pitch, start, end in notes:
    sequence.notes.add(pitch=pitch, start_time=start, end_time=end, velocity=80, is_drum=is_drum,
                       instrument=9 if is_drum else 0, program=0)
  midi_io.note_sequence_to_midi_file(sequence, str(path))


def test_a_folder_of_bad_files_beside_real_ones(tmp_path, datasets_root):
  folder = tmp_path / "midi"
  (folder / "nested").mkdir(parents=True)
  real = sorted((datasets_root / "nottingham/MIDI/melody").glob("*.mid"))[:3]
  for path in real:
    shutil.copy(path, folder / "nested" / path.name)
  (folder / "corrupt.mid").write_bytes(b"MThd\x00\x00\x00\x06garbage" * 3)
  (folder / "truncated.mid").write_bytes(real[0].read_bytes()[:40])
  (folder / "empty.mid").write_bytes(b"")
  _write_sequence(folder / "drums.mid", [(36, i * 0.5, i * 0.5 + 0.25) for i in range(16)],
                  is_drum=True)
  _write_sequence(folder / "endless.mid", [(60, 0.0, 1.0), (62, 5 * 3600.0, 5 * 3600.0 + 1)])
  with open(folder / "huge.mid", "wb") as f:  # a sparse file over the size limit
    f.truncate(sources_lib.MAX_FILE_BYTES + 1)
  (folder / "notes.txt").write_text("not a MIDI file, not read")

  manifest = prepare_lib.prepare(prepare_lib.make_source("midi_dir", str(folder)),
                                 str(tmp_path / "cache"), progress=False, log=lambda _: None)
  assert manifest["files"]["read"] == 9
  assert manifest["files"]["used"] == 3
  reasons = {entry["file"]: entry["reason"] for entry in manifest["skipped"]}
  assert reasons == {"corrupt": "corrupt", "truncated": "corrupt", "empty": "empty",
                     "drums": "drum_only", "endless": "too_long", "huge": "too_large"}
  assert manifest["files"]["summary"] == (
      "9 read, 3 used, 6 skipped: 2 corrupt, 1 drum_only, 1 empty, 1 too_large, 1 too_long")
  arrays, _ = cache_lib.load(tmp_path / "cache")
  assert sorted(arrays["piece_names"].tolist()) == sorted(f"nested/{p.stem}" for p in real)


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=400) | st.binary(max_size=200).map(lambda b: b"MThd\x00\x00\x00\x06" + b))
def test_random_bytes_never_crash_the_loader(data):
  piece = sources_lib.midi_bytes_to_piece("random", data)
  assert (piece.sequence is None) == (piece.skip_reason is not None)
  if piece.sequence is not None:  # parsed: the windowing must still only raise Unusable
    try:
      from hrnnvae.data import windows as windows_lib
      windows_lib.piece_windows(piece.sequence, windows_lib.WindowOptions())
    except windows_lib.Unusable:
      pass


def test_malformed_chorales_are_skipped(tmp_path):
  good = [[[72, 67, 64, 48]] * 16 + [[74, 67, 62, 47]] * 16]
  data = {"train": good + [[[72, 67]]] + [[["x", 1, 2, 3]]], "valid": good, "test": [[]]}
  (tmp_path / sources_lib.JSB_FILE).write_text(json.dumps(data))
  manifest = prepare_lib.prepare(sources_lib.JsbChoralesSource(tmp_path), str(tmp_path / "cache"),
                                 progress=False, log=lambda _: None)
  assert manifest["files"]["summary"] == "5 read, 2 used, 3 skipped: 3 malformed"
  assert manifest["split_sizes"]["pieces"] == {"train": 1, "valid": 1, "test": 0}


def test_a_corrupt_chorale_file_is_one_counted_skip(tmp_path):
  (tmp_path / sources_lib.JSB_FILE).write_text("{not json")
  pieces = list(sources_lib.JsbChoralesSource(tmp_path).pieces())
  assert [p.skip_reason for p in pieces] == ["corrupt"]


def test_cache_never_unpickles(tmp_path):
  arrays = {"events": np.zeros((1, 4), np.int8), "piece_names": np.array(["a"])}
  cache_lib.save(tmp_path, arrays, {"dataset": "x"})
  loaded, _ = cache_lib.load(tmp_path)  # np.load(allow_pickle=False) inside
  assert loaded["piece_names"].dtype.kind == "U"
