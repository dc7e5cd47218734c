"""Per-melody metrics, each with its formula and units. Inputs are melody events (see
data/events.py) on the 16th-note grid: 4 steps a quarter note, `steps_per_bar` a bar. A "beat" is
a quarter note, except in empty_beat_rate, whose beat follows the meter (see beat_steps).

Notation: a melody's notes n_1..n_N in time order, with pitch p_i (MIDI), onset s_i and duration
d_i in steps. Intervals are a_i = p_{i+1} - p_i. Entropies are in bits.
"""

from __future__ import annotations

import collections
import math

import numpy as np

from hrnnvae.data import emotion as emotion_lib
from hrnnvae.data import events as events_lib

STEPS_PER_BEAT = events_lib.STEPS_PER_QUARTER
LEAP_SEMITONES = 5  # larger than a perfect fourth is a leap
LARGE_LEAP_SEMITONES = 7  # larger than a perfect fifth
PHRASE_BARS = 4
MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
# Triad templates for chord estimation: 12 major and 12 minor triads as pitch-class sets.
TRIADS = [frozenset({root, (root + 4) % 12, (root + 7) % 12}) for root in range(12)] + \
    [frozenset({root, (root + 3) % 12, (root + 7) % 12}) for root in range(12)]


def _notes(events: np.ndarray):
  """(pitches, onsets, durations) as int arrays."""
  notes = events_lib.events_to_notes(np.asarray(events))
  if not notes:
    return np.zeros(0, int), np.zeros(0, int), np.zeros(0, int)
  starts, ends, pitches = map(np.array, zip(*notes))
  return pitches, starts, ends - starts


def _entropy(counts) -> float:
  counts = np.asarray([c for c in counts if c > 0], float)
  if counts.size == 0:
    return 0.0
  probabilities = counts / counts.sum()
  return float(-(probabilities * np.log2(probabilities)).sum())


def note_repetition_rate(events) -> float:
  """Share of intervals that repeat the previous pitch: #{a_i = 0} / (N - 1)."""
  pitches, _, _ = _notes(events)
  return float((np.diff(pitches) == 0).mean()) if len(pitches) > 1 else 0.0


def ngram_repetition_rate(events, n: int = 4) -> float:
  """Share of pitch n-grams that occurred earlier in the same melody: 1 - distinct / total."""
  pitches, _, _ = _notes(events)
  grams = [tuple(pitches[i:i + n]) for i in range(len(pitches) - n + 1)]
  return 1.0 - len(set(grams)) / len(grams) if grams else 0.0


def pitch_variation(events) -> float:
  """Mean absolute interval, semitones: mean |a_i|."""
  pitches, _, _ = _notes(events)
  return float(np.abs(np.diff(pitches)).mean()) if len(pitches) > 1 else 0.0


def _share_of_intervals_above(events, semitones: int) -> float:
  pitches, _, _ = _notes(events)
  return float((np.abs(np.diff(pitches)) > semitones).mean()) if len(pitches) > 1 else 0.0


def note_jump_degree(events) -> float:
  """Share of intervals that are leaps: #{|a_i| > 5 semitones} / (N - 1)."""
  return _share_of_intervals_above(events, LEAP_SEMITONES)


def leap_rate(events) -> float:
  """Share of intervals wider than a perfect fifth: #{|a_i| > 7 semitones} / (N - 1); 0 with
  fewer than two notes. Consecutive notes count even when a rest separates them."""
  return _share_of_intervals_above(events, LARGE_LEAP_SEMITONES)


def pitch_stability(events) -> float:
  """Standard deviation of pitch over notes, semitones (population std)."""
  pitches, _, _ = _notes(events)
  return float(np.std(pitches)) if len(pitches) else 0.0


def rhythm_diversity(events) -> float:
  """Entropy (bits) of the note-duration classes, one class per distinct duration in steps."""
  _, _, durations = _notes(events)
  return _entropy(collections.Counter(durations.tolist()).values())


def rhythm_continuity(events) -> float:
  """Mean absolute deviation of the inter-onset intervals from their mean, in beats."""
  _, onsets, _ = _notes(events)
  if len(onsets) < 2:
    return 0.0
  intervals = np.diff(onsets) / STEPS_PER_BEAT
  return float(np.abs(intervals - intervals.mean()).mean())


def duration_seconds(events, qpm: float) -> float:
  """Length of the melody, seconds: steps * 60 / (qpm * 4)."""
  return len(events) * 60.0 / (qpm * STEPS_PER_BEAT)


def melodic_complexity(events, qpm: float) -> float:
  """Notes per second."""
  pitches, _, _ = _notes(events)
  seconds = duration_seconds(events, qpm)
  return len(pitches) / seconds if seconds else 0.0


def pitch_range(events) -> int:
  """Highest minus lowest pitch, semitones."""
  pitches, _, _ = _notes(events)
  return int(pitches.max() - pitches.min()) if len(pitches) else 0


def pitch_classes_used(events) -> int:
  """Number of distinct pitch classes (0..12)."""
  pitches, _, _ = _notes(events)
  return len(set((pitches % 12).tolist()))


def pitch_entropy(events) -> float:
  """Entropy (bits) of the pitch histogram over notes."""
  pitches, _, _ = _notes(events)
  return _entropy(collections.Counter(pitches.tolist()).values())


def pitch_class_entropy(events) -> float:
  """Entropy (bits) of the pitch-class histogram over notes."""
  pitches, _, _ = _notes(events)
  return _entropy(collections.Counter((pitches % 12).tolist()).values())


def scale_consistency(events) -> float:
  """MusPy's: the largest share of notes that fit one major (or relative minor) scale, over the
  12 transpositions."""
  pitches, _, _ = _notes(events)
  if not len(pitches):
    return 0.0
  classes = pitches % 12
  return max(float(np.isin(classes, [(tonic + d) % 12 for d in MAJOR_SCALE]).mean())
             for tonic in range(12))


def in_scale_rate(events, steps_per_bar: int) -> float:
  """Share of notes in the scale of the melody's Krumhansl-Schmuckler key (natural minor for a
  minor key)."""
  pitches, _, _ = _notes(events)
  if not len(pitches):
    return 0.0
  features = emotion_lib.melody_features(np.asarray(events)[None], np.array([len(events)]),
                                         np.array([steps_per_bar]))
  tonic = int(features.key_tonic[0])
  relative_major = tonic if features.is_major[0] else (tonic + 3) % 12
  scale = [(relative_major + d) % 12 for d in MAJOR_SCALE]
  return float(np.isin(pitches % 12, scale).mean())


def beat_steps(time_signature: tuple[int, int] = (4, 4)) -> int:
  """16th-note steps in one beat of `numerator/denominator`. In compound meter (a numerator of 6,
  9, 12, ...) a beat is three 1/denominator notes: a dotted quarter (6 steps) in 6/8, 9/8 and
  12/8, a dotted half (12 steps) in 6/4. Any other meter beats in quarter notes (4 steps), as
  MusPy does everywhere (its beat is the quarter of `music.resolution`)."""
  numerator, denominator = time_signature
  steps = 3 * 4 * STEPS_PER_BEAT / denominator
  if numerator > 3 and numerator % 3 == 0 and steps == int(steps):
    return int(steps)
  return STEPS_PER_BEAT


def empty_beat_rate(events, time_signature: tuple[int, int] = (4, 4)) -> float:
  """MusPy's (0.5): share of beats in which no note sounds (a held note fills every beat it
  reaches), over the melody's ceil(steps / beat) beats; beats are `beat_steps(time_signature)`
  long, so dotted quarters in 6/8, counted from the melody's first step.

  Two details differ from muspy.empty_beat_rate: a note sounds in [onset, end), so one that ends
  exactly on a beat line leaves the next beat alone (MusPy's marks that beat too, so there a
  one-beat rest after such a note is never empty); and a trailing rest counts (MusPy's beats end
  at the last note's end). MusPy beats in quarters in every meter; this beats in dotted quarters
  in compound meter."""
  _, onsets, durations = _notes(events)
  beat = beat_steps(tuple(time_signature))
  beats = max(math.ceil(len(events) / beat), 1)
  sounding = np.zeros(beats * beat, bool)
  for onset, duration in zip(onsets, durations):
    sounding[onset:onset + duration] = True
  return float((~sounding.reshape(beats, beat).any(axis=1)).mean())


def groove_consistency(events, steps_per_bar: int) -> float:
  """MusPy's: 1 - mean Hamming distance between the onset patterns of consecutive bars, each
  divided by the bar length in steps."""
  _, onsets, _ = _notes(events)
  bars = max(math.ceil(len(events) / steps_per_bar), 1)
  if bars < 2:
    return 1.0
  patterns = np.zeros((bars, steps_per_bar), bool)
  patterns[onsets // steps_per_bar, onsets % steps_per_bar] = True
  return float(1.0 - (patterns[1:] != patterns[:-1]).sum(axis=1).mean() / steps_per_bar)


def _full_bars(events, steps_per_bar: int) -> np.ndarray:
  """[bars, steps_per_bar] events of the melody's whole bars (a trailing part-bar is dropped)."""
  events = np.asarray(events)
  bars = len(events) // steps_per_bar
  return events[:bars * steps_per_bar].reshape(bars, steps_per_bar)


def bar_repetition_rate(events, steps_per_bar: int) -> float:
  """Share of bars that repeat an earlier bar exactly: over the whole bars 2..B that contain an
  onset, the share whose steps_per_bar events equal those of some earlier bar. A bar with no
  onset (a rest, or a note held from the bar before) is left out: it would repeat trivially.
  Events compare as written, so a bar that opens by holding a note matches another that opens by
  holding any pitch. 0 when no bar after the first has an onset."""
  bars = _full_bars(events, steps_per_bar)
  seen, repeats, counted = set(), 0, 0
  for index, bar in enumerate(bars):
    key = bar.tobytes()
    if index and (bar >= events_lib.FIRST_PITCH_EVENT).any():
      counted += 1
      repeats += key in seen
    seen.add(key)
  return repeats / counted if counted else 0.0


def phrase_similarity(events, steps_per_bar: int, phrase_bars: int = PHRASE_BARS,
                      lag_parity: int | None = None) -> float:
  """Mean, over pairs of distinct phrases, of the share of steps whose events are identical.
  Phrases are the melody's consecutive, non-overlapping runs of `phrase_bars` whole bars from its
  start (a trailing shorter run is dropped); a pair (i < j) scores
  #{s : phrase_i[s] = phrase_j[s]} / (phrase_bars * steps_per_bar), in [0, 1]. Events compare as
  written (a HOLD matches a HOLD whatever it holds). 0 with fewer than two phrases.
  lag_parity 1 (0) counts only the pairs an odd (even) number of phrases apart, j - i: with
  4-bar phrases, a phrase against one in the other (the same) half of an 8-bar period. Real
  tunes state a period and restate it, so their even pairs agree more than their odd ones
  (Nottingham's 32-bar training spans: 0.80 against 0.74); 0 where no pair has that parity."""
  bars = _full_bars(events, steps_per_bar)
  count = len(bars) // phrase_bars
  if count < 2:
    return 0.0
  phrases = bars[:count * phrase_bars].reshape(count, phrase_bars * steps_per_bar)
  first, second = np.triu_indices(count, k=1)
  if lag_parity is not None:
    kept = (second - first) % 2 == lag_parity
    first, second = first[kept], second[kept]
    if not len(first):
      return 0.0
  return float((phrases[first] == phrases[second]).mean())


PART_BARS = 16  # a Nottingham tune's part: an 8-bar phrase played twice (AABB: part A, part B)


def part_lift(events, steps_per_bar: int, part_bars: int = PART_BARS) -> float:
  """How far the second part sits above the first, in semitones: the mean pitch of the notes
  struck in whole bars part_bars + 1 .. 2 * part_bars minus that of bars 1 .. part_bars (a folk
  tune's B part often climbs above its A part). NaN without a note in each part, or with fewer
  than 2 * part_bars whole bars."""
  if len(events) // steps_per_bar < 2 * part_bars:
    return float("nan")
  pitches, onsets, _ = _notes(np.asarray(events)[:2 * part_bars * steps_per_bar])
  second = onsets >= part_bars * steps_per_bar
  if second.all() or not second.any():
    return float("nan")
  return float(pitches[second].mean() - pitches[~second].mean())


def bar_chords(events, steps_per_bar: int) -> list[int | None]:
  """The best-matching triad per bar (index into TRIADS) by the duration each pitch class sounds
  in the bar; None for a bar with no note. Ties go to the lower index."""
  pitches, onsets, durations = _notes(events)
  bars = max(math.ceil(len(events) / steps_per_bar), 1)
  weights = np.zeros((bars, 12))
  for pitch, onset, duration in zip(pitches, onsets, durations):
    for step in range(onset, onset + duration):
      weights[step // steps_per_bar, pitch % 12] += 1
  chords = []
  for bar in weights:
    if not bar.any():
      chords.append(None)
      continue
    scores = [sum(bar[c] for c in triad) for triad in TRIADS]
    chords.append(int(np.argmax(scores)))
  return chords


def harmonic_richness(events, steps_per_bar: int) -> float:
  """Chord changes per 8 bars: changes between consecutive bars' estimated triads (empty bars
  skipped) * 8 / bars."""
  chords = [c for c in bar_chords(events, steps_per_bar) if c is not None]
  bars = max(math.ceil(len(events) / steps_per_bar), 1)
  changes = sum(a != b for a, b in zip(chords, chords[1:]))
  return changes * 8.0 / bars


def all_metrics(events, qpm: float, steps_per_bar: int,
                time_signature: tuple[int, int]) -> dict[str, float]:
  """Every per-melody metric above, by name. `time_signature` (numerator, denominator) must give
  `steps_per_bar`: 3/4 and 6/8 both have 12 steps a bar but beat differently."""
  time_signature = tuple(int(x) for x in time_signature)
  if events_lib.steps_per_bar(*time_signature) != steps_per_bar:
    raise ValueError(f"time signature {time_signature[0]}/{time_signature[1]} does not have "
                     f"{steps_per_bar} steps a bar")
  return {
      "note_repetition_rate": note_repetition_rate(events),
      "ngram4_repetition_rate": ngram_repetition_rate(events, 4),
      "pitch_variation": pitch_variation(events),
      "note_jump_degree": note_jump_degree(events),
      "pitch_stability": pitch_stability(events),
      "rhythm_diversity": rhythm_diversity(events),
      "rhythm_continuity": rhythm_continuity(events),
      "duration_seconds": duration_seconds(events, qpm),
      "melodic_complexity": melodic_complexity(events, qpm),
      "harmonic_richness": harmonic_richness(events, steps_per_bar),
      "pitch_range": float(pitch_range(events)),
      "pitch_classes_used": float(pitch_classes_used(events)),
      "pitch_entropy": pitch_entropy(events),
      "pitch_class_entropy": pitch_class_entropy(events),
      "scale_consistency": scale_consistency(events),
      "in_scale_rate": in_scale_rate(events, steps_per_bar),
      "empty_beat_rate": empty_beat_rate(events, time_signature),
      "groove_consistency": groove_consistency(events, steps_per_bar),
      "bar_repetition_rate": bar_repetition_rate(events, steps_per_bar),
      "phrase_similarity": phrase_similarity(events, steps_per_bar),
      "leap_rate": leap_rate(events),
  }
