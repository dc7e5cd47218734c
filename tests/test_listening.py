"""The blind listening test (evaluation/listening.py): sets that are balanced, matched and
shuffled, a key that matches the files, and scoring that reads a listener's sheet honestly."""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest
import scipy.io.wavfile
from note_seq import midi_io

from hrnnvae import render
from hrnnvae.data import events as events_lib
from hrnnvae.evaluation import listening, realism

from conftest import melody


def _real(quadrants, groups) -> realism.Melodies:
  events = np.stack([melody((60 + i, 4), (62, 4), steps=16) for i in range(len(quadrants))])
  return realism.Melodies(events.astype(np.int64), np.asarray(groups), np.asarray(quadrants))


def test_real_clips_come_one_per_tune_spread_over_the_quadrants():
  # 3 tunes of happy spans (two spans each), 1 tune of tense, 2 of sad.
  real = _real([0, 0, 0, 0, 0, 0, 1, 2, 2], [0, 0, 1, 1, 2, 2, 3, 4, 5])
  chosen = listening.pick_real(real, 5, seed=0)
  assert len(chosen) == 5
  assert len(set(real.groups[chosen].tolist())) == 5  # no tune twice
  # Round robin: the one tense tune and both sad tunes are in before a third happy one.
  assert sorted(real.quadrants[chosen].tolist()) == [0, 0, 1, 2, 2]
  np.testing.assert_array_equal(chosen, listening.pick_real(real, 5, seed=0))
  with pytest.raises(listening.ListeningError, match="6 tunes"):
    listening.pick_real(real, 7, seed=0)


def test_a_shuffled_set_keeps_each_melody_with_its_source_and_quadrant():
  real = [np.full(8, 10 + i) for i in range(3)]
  model = [np.full(8, 50 + i) for i in range(3)]
  clips, events = listening.shuffled(real, [0, 1, 2], ["tune 7", "tune 8", "tune 9"], model,
                                     [0, 1, 2], seed=3)
  assert [c.name for c in clips] == [f"clip_0{i}" for i in range(1, 7)]
  assert sorted(c.source for c in clips) == ["model"] * 3 + ["real"] * 3
  for clip, melody_events in zip(clips, events):
    index = int(melody_events[0]) % 10
    assert clip.source == ("real" if melody_events[0] < 50 else "model")
    assert clip.quadrant == ["happy", "tense", "sad"][index]
    assert clip.origin == (f"tune {7 + index}" if clip.source == "real" else f"sample {index}")
  orders = {tuple(c.source for c in listening.shuffled(real, [0] * 3, ["t"] * 3, model, [0] * 3,
                                                       seed)[0]) for seed in range(6)}
  assert len(orders) > 1  # the order is random, not real first


def _written_set(tmp_path):
  real = [melody((60, 8), (64, 8), steps=16), melody((67, 4), (65, 4), (64, 8), steps=16)]
  model = [melody((72, 16), steps=16), melody((60, 2), (62, 2), (64, 12), steps=16)]
  clips, events = listening.shuffled(real, [0, 2], ["tune 1", "tune 2"], model, [0, 2], seed=0)
  key = listening.write_set(tmp_path, clips, events, 100.0, (3, 4), audio=False,
                            facts={"model": "m"})
  return clips, events, key


def test_a_written_set_holds_each_clip_as_midi_a_blank_sheet_and_its_key(tmp_path):
  clips, events, key = _written_set(tmp_path)
  for clip, melody_events in zip(clips, events):
    sequence = midi_io.midi_file_to_note_sequence(str(tmp_path / "clips" / f"{clip.name}.mid"))
    pitches = [n.pitch for n in sorted(sequence.notes, key=lambda n: n.start_time)]
    assert pitches == [p for _, _, p in events_lib.events_to_notes(melody_events)]
    assert sequence.time_signatures[0].numerator == 3
    assert not (tmp_path / "clips" / f"{clip.name}.wav").exists()  # audio=False
  with open(tmp_path / listening.ANSWERS, newline="") as f:
    rows = list(csv.reader(f))
  assert rows == [["clip", "guess"]] + [[c.name, ""] for c in clips]
  stored, stored_clips = listening.load_key(tmp_path)
  assert stored == json.loads(json.dumps(key)) and stored_clips == clips
  assert stored["model"] == "m" and stored["qpm"] == 100.0


def _answer(tmp_path, rows):
  with open(tmp_path / listening.ANSWERS, "w", newline="") as f:
    csv.writer(f).writerows([["clip", "guess"]] + rows)
  return tmp_path / listening.ANSWERS


def test_scoring_against_the_key_and_the_exact_binomial_test(tmp_path):
  clips, _, _ = _written_set(tmp_path)
  names = [c.name for c in clips]
  perfect = listening.score({c.name: c.source for c in clips}, clips)
  assert perfect["accuracy"] == 1.0 and perfect["right"] == 4
  assert perfect["p_value"] == pytest.approx(2 * 0.5 ** 4)  # two-sided: 4 of 4 or 0 of 4
  assert perfect["real_called_real"] == 1.0 and perfect["model_called_real"] == 0.0
  everything_real = listening.score({name: "real" for name in names}, clips)
  assert everything_real["accuracy"] == 0.5 and everything_real["p_value"] == 1.0
  assert everything_real["model_called_real"] == 1.0
  assert everything_real["by_quadrant"] == {"happy": 0.5, "sad": 0.5}
  # Three of four right, the plain binomial sum: P(k >= 3) + P(k <= 1) = 10 / 16.
  wrong = next(c for c in clips if c.source == "model")
  three = {c.name: c.source for c in clips} | {wrong.name: "real"}
  assert listening.score(three, clips)["p_value"] == pytest.approx(
      sum(math.comb(4, k) for k in (0, 1, 3, 4)) / 16)
  # Unanswered clips are counted as such, not scored.
  half = listening.score({names[0]: "real", names[1]: "model"}, clips)
  assert half["answered"] == 2 and half["clips"] == 4


def test_reading_a_sheet_accepts_short_answers_and_refuses_mistakes(tmp_path):
  clips, _, _ = _written_set(tmp_path)
  names = [c.name for c in clips]
  path = _answer(tmp_path, [[names[0], "R"], [names[1], " model "], [names[2], ""], ["", ""]])
  assert listening.read_answers(path, names) == {names[0]: "real", names[1]: "model"}
  with pytest.raises(listening.ListeningError, match="is missing"):
    listening.read_answers(tmp_path / "elsewhere.csv", names)
  for rows, needle in [([["clip_99", "real"]], "no clip named 'clip_99'"),
                       ([[names[0], "real"], [names[0], "model"]], "answered twice"),
                       ([[names[0], "maybe"]], "write real or model")]:
    with pytest.raises(listening.ListeningError, match=needle):
      listening.read_answers(_answer(tmp_path, rows), names)


def test_a_folder_without_a_key_is_not_a_set(tmp_path):
  with pytest.raises(listening.ListeningError, match="not a listening set"):
    listening.load_key(tmp_path)
  (tmp_path / listening.KEY).write_text("{")
  with pytest.raises(listening.ListeningError, match="cannot be read"):
    listening.load_key(tmp_path)


def test_every_wav_of_a_set_has_one_length_even_when_a_melody_ends_on_a_rest(tmp_path):
  short = melody((60, 4), steps=16)  # a quarter note, then 12 steps of rest
  full = melody((62, 16), steps=16)
  clips, events = listening.shuffled([short], [0], ["tune 1"], [full], [0], seed=0)
  listening.write_set(tmp_path, clips, events, 100.0, (4, 4), audio=True)
  frames = round((16 / 4 * 60 / 100 + listening.TAIL_SECONDS) * render.SAMPLE_RATE)
  for clip in clips:
    rate, audio = scipy.io.wavfile.read(tmp_path / "clips" / f"{clip.name}.wav")
    assert rate == render.SAMPLE_RATE and len(audio) == frames
    assert np.abs(audio).max() > 0
