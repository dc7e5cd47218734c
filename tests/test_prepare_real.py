"""Every Nottingham tune and every JSB chorale through the real pipeline (slow; runs in CI)."""

import collections

import numpy as np
import pytest
from note_seq import midi_io

from hrnnvae.data import cache as cache_lib
from hrnnvae.data import emotion as emotion_lib
from hrnnvae.data import events as events_lib
from hrnnvae.data import prepare as prepare_lib
from hrnnvae.data import sources as sources_lib

from conftest import prepare_real

pytestmark = pytest.mark.slow
NOTTINGHAM_METER_CHANGES = 14


@pytest.fixture(scope="session")
def jsb(datasets_root, tmp_path_factory):
  return prepare_real("jsb_chorales", datasets_root / "jsb_chorales", tmp_path_factory)


def _no_file_lost(manifest, arrays, expected_files):
  files = manifest["files"]
  assert files["read"] == expected_files
  assert files["used"] + files["skipped"] == files["read"]
  assert len(manifest["skipped"]) == files["skipped"]
  assert sum(files["skip_reasons"].values()) == files["skipped"]
  used = set(arrays["piece_names"].tolist())
  assert len(used) == files["used"]
  assert not used & {entry["file"] for entry in manifest["skipped"]}


def test_nottingham_every_tune_accounted_for(nottingham, datasets_root):
  _, arrays, manifest = nottingham
  midi_files = sorted((datasets_root / "nottingham/MIDI/melody").glob("*.mid"))
  assert len(midi_files) == 1034
  _no_file_lost(manifest, arrays, 1034)
  assert manifest["files"]["used"] == 1034  # the cleaned MIDI has no bad file


def test_nottingham_split_is_by_hash_and_recorded(nottingham):
  _, arrays, manifest = nottingham
  names = arrays["piece_names"].tolist()
  expected = collections.Counter(sources_lib.hash_split(name) for name in names)
  assert manifest["split_sizes"]["pieces"] == {s: expected[s] for s in sources_lib.SPLITS}
  assert manifest["split_of_piece"] == {name: sources_lib.hash_split(name) for name in names}
  # Every window of a tune is in that tune's split: no tune leaks across splits.
  for split_index in np.unique(arrays["split"]):
    pieces = np.unique(arrays["piece"][arrays["split"] == split_index])
    assert all(sources_lib.hash_split(names[p]) == sources_lib.SPLITS[split_index] for p in pieces)
  assert 0.75 < expected["train"] / 1034 < 0.85


def test_nottingham_meter_changes_are_split_not_lost(nottingham):
  _, arrays, manifest = nottingham
  changes = manifest["meter_changes"]
  assert len(changes) == NOTTINGHAM_METER_CHANGES
  names = arrays["piece_names"].tolist()
  for name, info in changes.items():
    assert info["segments"] >= 2 and info["windows"] >= 1
    windows = arrays["piece"] == names.index(name)
    assert windows.sum() == info["windows"]
  # The windows of a tune that changes meter carry the meter of their own segment.
  mixed = [n for n in changes if len({tuple(m) for m in arrays["time_signature"][
      arrays["piece"] == names.index(n)].tolist()}) > 1]
  assert mixed, "some meter-change tune should keep windows in more than one meter"


def test_nottingham_windows_are_bar_aligned_melodies(nottingham):
  _, arrays, manifest = nottingham
  events, lengths, bar = arrays["events"], arrays["lengths"], arrays["steps_per_bar"]
  assert events.dtype == np.int8 and events.min() >= 0 and events.max() < events_lib.NUM_CLASSES
  assert (lengths <= 16 * bar).all()
  full = lengths == 16 * bar
  assert full.mean() > 0.8  # most windows are the full 16 bars
  assert (events[np.arange(events.shape[1])[None, :] >= lengths[:, None]] == 0).all()  # padding
  # A window that starts inside a tune starts on a (re)struck note or a note-off, never a hold
  # (only a tune's first bar can open in a rest: the pickup).
  assert (events[arrays["start_bar"] > 0, 0] != events_lib.HOLD).all()
  assert manifest["abc_mode_agreement"]["rate"] > 0.8  # our mode agrees with the ABC K: field


def test_nottingham_labels_use_training_medians(nottingham):
  _, arrays, manifest = nottingham
  train = arrays["split"] == 0
  features = emotion_lib.Features.from_array(arrays["features"][train])
  thresholds = manifest["arousal_thresholds"]
  assert thresholds["median_note_density"] == pytest.approx(np.median(features.note_density))
  relabelled = emotion_lib.emotion_labels(
      emotion_lib.Features.from_array(arrays["features"]),
      emotion_lib.ArousalThresholds(**thresholds))
  np.testing.assert_array_equal(relabelled, arrays["emotion"])
  assert set(np.unique(arrays["emotion"][train]).tolist()) == {0, 1, 2, 3}


def test_real_window_round_trips_through_midi(nottingham, tmp_path):
  _, arrays, _ = nottingham
  for row in range(0, len(arrays["events"]), 997):
    events = arrays["events"][row, :arrays["lengths"][row]]
    meter = tuple(arrays["time_signature"][row])
    sequence = events_lib.events_to_note_sequence(events, float(arrays["qpm"][row]), *meter)
    path = tmp_path / f"{row}.mid"
    midi_io.note_sequence_to_midi_file(sequence, str(path))
    parsed = events_lib.quantize(midi_io.midi_file_to_note_sequence(str(path)))
    np.testing.assert_array_equal(
        events_lib.quantized_melody_events(parsed, num_steps=len(events)), events)


def test_cache_is_reused_when_input_is_unchanged(nottingham, datasets_root):
  out, _, manifest = nottingham
  before = (out / cache_lib.EXAMPLES_FILE).stat().st_mtime_ns
  said = []
  source = prepare_lib.make_source("nottingham", str(datasets_root / "nottingham"))
  again = prepare_lib.prepare(source, str(out), progress=False, log=said.append)
  assert again == manifest and "up to date" in said[0]
  assert (out / cache_lib.EXAMPLES_FILE).stat().st_mtime_ns == before


def test_jsb_official_split(jsb):
  _, arrays, manifest = jsb
  _no_file_lost(manifest, arrays, 229 + 76 + 77)
  assert manifest["split_sizes"]["pieces"] == {"train": 229, "valid": 76, "test": 77}
  assert arrays["voices"].shape == arrays["events"].shape + (4,)


def test_jsb_soprano_is_the_melody(jsb, datasets_root):
  _, arrays, _ = jsb
  import json
  raw = json.loads((datasets_root / "jsb_chorales" / sources_lib.JSB_FILE).read_text())
  first = np.nonzero((arrays["piece_names"] == "test/000"))[0][0]
  row = np.nonzero(arrays["piece"] == first)[0][0]
  soprano = np.array([step[0] for step in raw["test"][0]])[:arrays["lengths"][row]]
  np.testing.assert_array_equal(arrays["voices"][row, :len(soprano), 0], soprano)
  sounding = _sounding_pitch(arrays["events"][row, :len(soprano)])
  np.testing.assert_array_equal(sounding, soprano)


def _sounding_pitch(events):
  """Per step, the pitch that sounds under these events, -1 in rests."""
  pitch, out = -1, []
  for event in events.tolist():
    if event == events_lib.NOTE_OFF:
      pitch = -1
    elif event >= events_lib.FIRST_PITCH_EVENT:
      pitch = events_lib.event_to_pitch(event)
    out.append(pitch)
  return np.array(out)


def test_transposition_augmentation(datasets_root, tmp_path):
  source = prepare_lib.make_source("jsb_chorales", str(datasets_root / "jsb_chorales"))
  options = prepare_lib.PrepareOptions(transpose=3)
  manifest = prepare_lib.prepare(source, str(tmp_path), options, progress=False,
                                 log=lambda _: None)
  arrays, _ = cache_lib.load(tmp_path)
  shifted = arrays["transposition"] != 0
  assert set(np.unique(arrays["transposition"]).tolist()) == {-3, -2, -1, 0, 1, 2, 3}
  assert (arrays["split"][shifted] == 0).all()  # only training data is augmented
  assert len(arrays["piece_names"]) == arrays["piece"].max() + 1  # one name a piece, not a window
  assert manifest["split_sizes"]["examples"]["valid"] == 127
  original = arrays["events"][~shifted & (arrays["split"] == 0)]
  assert shifted.sum() == 6 * len(original)  # chorales sit mid-range: every shift fits
  pitched = arrays["events"][arrays["events"] >= events_lib.FIRST_PITCH_EVENT]
  assert pitched.max() < events_lib.NUM_CLASSES
  # A transposed copy differs from its original by exactly the shift on every pitch.
  row = np.nonzero(arrays["transposition"] == 2)[0][0]
  base = np.nonzero((arrays["piece"] == arrays["piece"][row]) & (arrays["transposition"] == 0)
                    & (arrays["start_bar"] == arrays["start_bar"][row]))[0][0]
  np.testing.assert_array_equal(arrays["events"][row],
                                events_lib.transpose_events(arrays["events"][base], 2))


def test_bach_music21_default_dataset(tmp_path):
  source = prepare_lib.make_source("bach_music21", None, limit=12)
  manifest = prepare_lib.prepare(source, str(tmp_path), progress=False, log=lambda _: None)
  arrays, _ = cache_lib.load(tmp_path)
  assert manifest["files"]["read"] == 12
  assert manifest["files"]["used"] + manifest["files"]["skipped"] == 12
  assert manifest["files"]["used"] >= 6
  assert arrays["voices"].shape[-1] == 4
  assert (arrays["lengths"] > 0).all()
