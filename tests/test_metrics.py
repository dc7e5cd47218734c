"""Each metric against values worked out by hand on small constructed melodies."""

import math

import numpy as np
import pytest

from hrnnvae.data import events as events_lib
from hrnnvae.data import sources as sources_lib
from hrnnvae.data import windows as windows_lib
from hrnnvae.metrics import corpus, melody

from conftest import melody as make_melody

SCALE = (60, 62, 64, 65, 67, 69, 71, 72)
SCALE_EVENTS = make_melody(*[(p, 4) for p in SCALE], steps=32)  # C major in quarters, 2 bars


def test_c_major_scale():
  e = SCALE_EVENTS
  assert melody.note_repetition_rate(e) == 0.0
  assert melody.ngram_repetition_rate(e) == 0.0
  assert melody.pitch_variation(e) == pytest.approx(12 / 7)
  assert melody.note_jump_degree(e) == 0.0
  assert melody.pitch_stability(e) == pytest.approx(np.std(SCALE))
  assert melody.rhythm_diversity(e) == 0.0  # every note a quarter
  assert melody.rhythm_continuity(e) == 0.0
  assert melody.duration_seconds(e, qpm=120) == pytest.approx(4.0)  # 8 beats at 120 qpm
  assert melody.melodic_complexity(e, qpm=120) == pytest.approx(2.0)
  assert melody.pitch_range(e) == 12
  assert melody.pitch_classes_used(e) == 7
  assert melody.pitch_entropy(e) == pytest.approx(3.0)  # 8 distinct pitches
  assert melody.pitch_class_entropy(e) == pytest.approx(2 / 8 * 2 + 6 * 3 / 8)  # C twice
  assert melody.scale_consistency(e) == 1.0
  assert melody.in_scale_rate(e, 16) == 1.0
  assert melody.empty_beat_rate(e) == 0.0
  assert melody.groove_consistency(e, 16) == 1.0


def test_repetition():
  repeated = make_melody((60, 2), (60, 2), (60, 2), (62, 2), steps=8)
  assert melody.note_repetition_rate(repeated) == pytest.approx(2 / 3)
  motif = make_melody(*[(p, 2) for p in (60, 62, 64, 65, 60, 62, 64, 65)], steps=16)
  assert melody.ngram_repetition_rate(motif) == pytest.approx(1 - 4 / 5)


def test_rhythm():
  e = make_melody((60, 2), (62, 2), (64, 4), (65, 8), steps=16)
  assert melody.rhythm_diversity(e) == pytest.approx(1.5)  # durations 2, 2, 4, 8
  # Inter-onset intervals 0.5, 0.5, 1 beats: mean 2/3, mean absolute deviation 2/9.
  assert melody.rhythm_continuity(e) == pytest.approx(2 / 9)
  whole_notes = make_melody((60, 16), (62, 16), steps=32)
  assert melody.empty_beat_rate(whole_notes) == 0.0  # a held note fills every beat it reaches
  uneven = make_melody((60, 4), (62, 4), (64, 4), (65, 4), (67, 8), (69, 8), steps=32)
  assert melody.groove_consistency(uneven, 16) == pytest.approx(1 - 2 / 16)


def test_empty_beat_rate_simple_meter():
  # 4/4, quarter beats: a quarter rest on beat 2 and a final half-beat rest.
  e = make_melody((60, 4), (None, 4), (62, 6), (None, 2), steps=16)
  assert melody.empty_beat_rate(e) == pytest.approx(1 / 4)
  assert melody.empty_beat_rate(e, (2, 4)) == pytest.approx(1 / 4)  # 2/4 also beats in quarters
  # A rest across a beat line, half in each beat, empties neither.
  assert melody.empty_beat_rate(make_melody((60, 2), (None, 4), (62, 10), steps=16)) == 0.0
  assert melody.empty_beat_rate(make_melody((60, 4), steps=16)) == pytest.approx(3 / 4)
  assert melody.empty_beat_rate(np.zeros(8, np.int8)) == 1.0  # silence


def test_empty_beat_rate_compound_meter():
  assert melody.beat_steps((6, 8)) == melody.beat_steps((9, 8)) == melody.beat_steps((12, 8)) == 6
  assert melody.beat_steps((3, 4)) == melody.beat_steps((4, 4)) == melody.beat_steps((3, 8)) == 4
  assert melody.beat_steps((6, 4)) == 12
  # Two bars of 6/8: notes only on the dotted quarters. In quarter beats the third quarter
  # (steps 8-11) would hold no onset; in dotted-quarter beats every beat sounds.
  dotted = make_melody((60, 6), (62, 6), (64, 6), (65, 6), steps=24)
  assert melody.empty_beat_rate(dotted, (6, 8)) == 0.0
  # A rest filling the second dotted-quarter beat: exactly that beat of four is empty.
  rest = make_melody((60, 6), (None, 6), (64, 6), (65, 6), steps=24)
  assert melody.empty_beat_rate(rest, (6, 8)) == pytest.approx(1 / 4)
  # The same rest one eighth later spans two beats and empties neither.
  shifted = make_melody((60, 8), (None, 6), (64, 4), (65, 6), steps=24)
  assert melody.empty_beat_rate(shifted, (6, 8)) == 0.0
  # 3/4 has 12 steps a bar too, but beats in quarters: the same rest (steps 6-11) empties only
  # the third quarter of six, since the note sounds into the second.
  assert melody.empty_beat_rate(rest, (3, 4)) == pytest.approx(1 / 6)
  lone = make_melody((60, 2), (None, 10), (62, 12), steps=24)
  assert melody.empty_beat_rate(lone, (6, 8)) == pytest.approx(1 / 4)
  assert melody.empty_beat_rate(lone, (3, 4)) == pytest.approx(2 / 6)


def test_all_metrics_needs_a_matching_meter():
  assert melody.all_metrics(SCALE_EVENTS, 120.0, 16, (4, 4))["empty_beat_rate"] == 0.0
  with pytest.raises(ValueError, match="6/8 does not have 16 steps"):
    melody.all_metrics(SCALE_EVENTS, 120.0, 16, (6, 8))


# muspy.empty_beat_rate (MusPy 0.5.0, installed in a separate venv, never a dependency) on
# MIDI/melody/<tune>.mid of the Nottingham dataset, each a single-meter 6/8 jig:
#   (as read: quarter-note beats, as MusPy beats in every meter;
#    with music.resolution set to 1.5x the file's, so MusPy's beat is a dotted quarter).
# Over all 338 single-meter 6/8 jigs: as read, mean 0.0148 (0.0000-0.0392); dotted quarters,
# mean 0.0118 (0.0000-0.0294), every tune within 0.0004 of ours. Before issue 18, ours (onsets
# per quarter note) had mean 0.0525 (0.0000-0.2828).
MUSPY_JIGS = {  # tune: (MusPy as read, MusPy in dotted quarters, ours before issue 18)
    "jigs2": (0.0000, 0.0000, 0.0694),
    "jigs5": (0.0202, 0.0152, 0.0707),
    "jigs10": (0.0202, 0.0152, 0.1111),
    "jigs85": (0.0200, 0.0149, 0.2222),
    "jigs214": (0.0100, 0.0149, 0.2828),
    "jigs304": (0.0000, 0.0000, 0.2083),
}


def test_empty_beat_rate_agrees_with_muspy_on_jigs(datasets_root):
  folder = datasets_root / "nottingham" / "MIDI" / "melody"
  for tune, (as_read, dotted, _) in MUSPY_JIGS.items():
    piece = sources_lib.read_midi_piece(tune, folder / f"{tune}.mid")
    events, meter, _ = windows_lib.melody_of(piece.sequence)
    assert meter == (6, 8), tune
    ours = melody.empty_beat_rate(events, meter)
    # The tunes' only empty beats are the silence before the pickup; MusPy counts beats up to
    # the last note's end (+1 when it ends on a beat line), ours over the melody's length.
    assert ours == pytest.approx(dotted, abs=1e-3), tune
    assert ours == pytest.approx(as_read, abs=0.006), tune


def test_leaps_and_keys():
  leaps = make_melody((60, 4), (67, 4), (69, 4), (57, 4), steps=16)  # +7, +2, -12
  assert melody.note_jump_degree(leaps) == pytest.approx(2 / 3)
  assert melody.pitch_variation(leaps) == pytest.approx(7.0)
  chromatic = make_melody((60, 4), (61, 4), (62, 4), (63, 4), steps=16)
  assert melody.scale_consistency(chromatic) == pytest.approx(3 / 4)


def _bars(*bars):
  """Events from bars written as lists of pitches (an int), HOLD (0) and NOTE_OFF (None)."""
  return np.array([events_lib.NOTE_OFF if e is None else events_lib.HOLD if e == 0
                   else events_lib.pitch_to_event(e) for bar in bars for e in bar], np.int8)


def test_bar_repetition():
  motif, held, rest, other = [60, 0, 62, 0], [0, 0, 0, 0], [None, 0, 0, 0], [64, 0, 0, 0]
  e = _bars(motif, motif, held, rest, other, motif, held, other, [60, 0])
  # Bars 2..8 with an onset: 2 (repeats 1), 5 (new), 6 (repeats 1), 8 (repeats 5); the trailing
  # part-bar is dropped and the held and silent bars are not counted.
  assert melody.bar_repetition_rate(e, 4) == pytest.approx(3 / 4)
  assert melody.bar_repetition_rate(_bars(held, held, held), 4) == 0.0
  assert melody.bar_repetition_rate(e[:3], 4) == 0.0  # not one whole bar
  assert melody.bar_repetition_rate(SCALE_EVENTS, 16) == 0.0


def test_part_lift():
  a_part, b_part = [60, 0, 62, 0], [72, 0, 0, 74]
  # Two 2-bar parts: A strikes 60, 62 twice (mean 61), B strikes 72, 74, 72 (mean 218 / 3): B
  # sits that far above A; the 5th bar is not read.
  tune = _bars(a_part, a_part, b_part, [72, 0, 0, 0], [40, 0, 0, 0])
  assert melody.part_lift(tune, 4, part_bars=2) == pytest.approx((72 + 74 + 72) / 3 - 61)
  assert math.isnan(melody.part_lift(tune[:12], 4, part_bars=2))  # 3 whole bars: one part
  assert math.isnan(melody.part_lift(_bars(a_part, a_part, [0] * 4, [None, 0, 0, 0]), 4, 2))
  assert melody.part_lift(np.tile(SCALE_EVENTS, 2), 16, part_bars=2) == 0.0  # the scale twice
  assert melody.part_lift(SCALE_EVENTS, 16, part_bars=1) == pytest.approx(69.75 - 62.75)  # bar 2 over bar 1


def test_phrase_similarity():
  e = _bars([60, 0, 62, 0], [64, 0, 0, 0], [60, 0, 62, 0], [65, 0, 0, 0], [None, 0, 0, 0],
            [0, 0, 0, 0], [60, 0, 0, 0])
  # Two-bar phrases 1-2, 3-4, 5-6 (bar 7 left over): 7/8 steps agree for (1, 2), 5/8 for (1, 3)
  # and for (2, 3) (the HOLDs of bars 5-6 match those of the others).
  assert melody.phrase_similarity(e, 4, phrase_bars=2) == pytest.approx((7 + 5 + 5) / 24)
  # By the pairs' distance: (1, 2) and (2, 3) one phrase apart, (1, 3) two.
  assert melody.phrase_similarity(e, 4, phrase_bars=2, lag_parity=1) == pytest.approx((7 + 5) / 16)
  assert melody.phrase_similarity(e, 4, phrase_bars=2, lag_parity=0) == pytest.approx(5 / 8)
  assert melody.phrase_similarity(e[:16], 4, phrase_bars=2, lag_parity=0) == 0.0  # no even pair
  assert melody.phrase_similarity(e[:16], 4, phrase_bars=2, lag_parity=1) == pytest.approx(7 / 8)
  assert melody.phrase_similarity(e, 4) == 0.0  # 7 bars: one four-bar phrase
  assert melody.phrase_similarity(e[:3], 4) == 0.0  # not one whole bar
  assert melody.phrase_similarity(np.tile(SCALE_EVENTS, 4), 16, phrase_bars=2) == 1.0


def test_leap_rate():
  e = make_melody((60, 4), (67, 4), (75, 4), (None, 4), (62, 4), steps=20)  # +7, +8, -13
  assert melody.leap_rate(e) == pytest.approx(2 / 3)  # a fifth is not wider than a fifth
  assert melody.note_jump_degree(e) == 1.0
  assert melody.leap_rate(make_melody((60, 4), steps=4)) == 0.0


def test_harmonic_richness():
  # Bar 1 outlines C major, bar 2 G major: one change in 2 bars = 4 per 8 bars.
  arpeggios = make_melody((60, 4), (64, 4), (67, 4), (72, 4), (67, 4), (71, 4), (74, 4), (79, 4),
                          steps=32)
  chords = melody.bar_chords(arpeggios, 16)
  assert [melody.TRIADS[c] for c in chords] == [{0, 4, 7}, {7, 11, 2}]
  assert melody.harmonic_richness(arpeggios, 16) == pytest.approx(4.0)
  assert melody.harmonic_richness(make_melody((60, 32), steps=32), 16) == 0.0


def test_bleu():
  assert corpus.corpus_bleu([SCALE_EVENTS], [SCALE_EVENTS]) == pytest.approx(1.0)
  other = make_melody(*[(p, 4) for p in (50, 51, 52, 53, 54, 55, 56, 57)], steps=32)
  nothing_matches = math.exp(sum(math.log(0.1 / n) for n in (8, 7, 6, 5)) / 4)  # smoothed zeros
  assert corpus.corpus_bleu([other], [SCALE_EVENTS]) == pytest.approx(nothing_matches)
  # Half the unigrams and no higher n-gram match: p1 = 1/2, p2..p4 smoothed.
  half = make_melody(*[(p, 4) for p in (60, 50, 64, 51, 67, 52, 71, 53)], steps=32)
  expected = math.exp((math.log(4 / 8) + math.log(0.1 / 7) + math.log(0.1 / 6)
                       + math.log(0.1 / 5)) / 4)
  assert corpus.corpus_bleu([half], [SCALE_EVENTS]) == pytest.approx(expected)


def test_distribution_comparison():
  rng = np.random.default_rng(0)
  same = rng.normal(0, 1, 400)
  result = corpus.distribution_comparison(same, same)
  assert result["overlap"] == pytest.approx(1.0, abs=1e-3) and result["kl"] == pytest.approx(0, abs=1e-6)
  near = corpus.distribution_comparison(rng.normal(0, 1, 2000), rng.normal(0, 1, 2000))
  far = corpus.distribution_comparison(rng.normal(0, 1, 400), rng.normal(10, 1, 400))
  assert near["overlap"] > 0.9 and far["overlap"] < 0.01 and far["kl"] > near["kl"]
  # Two unit Gaussians a distance 1 apart: overlap 2 * Phi(-1/2) = 0.617, KL 0.5 nats.
  shifted = corpus.distribution_comparison(rng.normal(1, 1, 20000), rng.normal(0, 1, 20000))
  assert shifted["overlap"] == pytest.approx(0.617, abs=0.03)
  assert shifted["kl"] == pytest.approx(0.5, abs=0.08)
  constant = corpus.distribution_comparison(np.full(5, 3.0), np.full(5, 3.0))
  assert constant["overlap"] == pytest.approx(1.0, abs=1e-3)
