"""How much of a tune an emotion transfer the judge confirms must change: a rule, not a model.

Every test-split opening window (the windows scoring.emotion_transfer moves) is asked for each
of the three other emotions, and a rule edits it, one step at a time, until the judge gives the
requested quadrant:
  valence: where the requested mode differs from the window's (its Krumhansl key), the notes on
    the degrees that tell the modes apart move a semitone on the key's tonic (major to minor:
    the 3rd, 6th and 7th down; minor to major: the flat 3rd, 6th and 7th up), and once more on
    the key that leaves when the mode did not turn;
  arousal: while the judge's arousal score (note density and mean interval against the training
    medians) lies on the wrong side, to raise it the longest note is split at its middle, the new
    note a fourth above; to lower it, the note that leaps furthest from the one before is merged
    into it (its onset becomes a hold).
Each edit changes one step; a window stops when the judge agrees or half its steps are edited.
The share of steps kept with the judge agreeing is what a transfer can keep (an existence
proof, not a bound: a smarter edit keeps more), beside the model's own trade-off
(launch/reconstruct_check.py --transfer_keeps). The edits are not meant to sound good.

  python launch/transfer_floor.py --cache=runs/nottingham_ship/data --steps_per_bar=16 \
      --json=docs/results/issue19_transfer_keep/floor_test.json
"""

from __future__ import annotations

import json
import pathlib

import numpy as np
from absl import app, flags

from hrnnvae import judge
from hrnnvae.data import cache as cache_lib
from hrnnvae.data import emotion as emotion_lib
from hrnnvae.data import events as events_lib
from hrnnvae.evaluation import scoring

_CACHE = flags.DEFINE_string("cache", None, "The prepared cache whose opening windows are moved.")
_STEPS_PER_BAR = flags.DEFINE_integer("steps_per_bar", 16, "The model's meter's bar (the windows "
                                      "scoring.emotion_transfer moves).")
_SPLIT = flags.DEFINE_enum("split", "test", ["valid", "test"], "Whose opening windows.")
_JSON = flags.DEFINE_string("json", None, "Where to write the figures.")

# Degrees (semitones above the tonic) a mode change moves, and by how much.
_TO_MINOR = {4: -1, 9: -1, 11: -1}
_TO_MAJOR = {3: +1, 8: +1, 10: +1}
_SPLIT_INTERVAL = 5  # the new note of a split: a fourth above


def _notes(melody: np.ndarray) -> list[tuple[int, int]]:
  """(onset step, duration) of each note: a pitch event and the holds after it."""
  onsets = np.nonzero(melody >= events_lib.FIRST_PITCH_EVENT)[0]
  ends = np.nonzero(melody != events_lib.HOLD)[0]
  notes = []
  for onset in onsets:
    later = ends[ends > onset]
    notes.append((int(onset), int((later[0] if len(later) else len(melody)) - onset)))
  return notes


def _arousal_score(melody: np.ndarray, steps_per_bar: int, thresholds) -> float:
  features = judge.features([melody], steps_per_bar)
  return float(features.note_density[0] / thresholds.median_note_density
               + features.mean_abs_interval[0] / thresholds.median_mean_abs_interval)


def _change_mode(melody: np.ndarray, steps_per_bar: int, to_major: bool) -> np.ndarray:
  features = judge.features([melody], steps_per_bar)
  tonic, moves = int(features.key_tonic[0]), _TO_MAJOR if to_major else _TO_MINOR
  edited = melody.copy()
  for step in np.nonzero(melody >= events_lib.FIRST_PITCH_EVENT)[0]:
    pitch = events_lib.event_to_pitch(int(melody[step]))
    move = moves.get((pitch - tonic) % 12, 0)
    if move and events_lib.MIN_PITCH <= pitch + move <= events_lib.MAX_PITCH:
      edited[step] = events_lib.pitch_to_event(pitch + move)
  return edited


def _raise_arousal(melody: np.ndarray) -> np.ndarray | None:
  """The longest note split at its middle, the second half a fourth above; None if no note lasts
  two steps."""
  notes = [note for note in _notes(melody) if note[1] >= 2]
  if not notes:
    return None
  onset, duration = max(notes, key=lambda note: (note[1], -note[0]))
  pitch = min(events_lib.event_to_pitch(int(melody[onset])) + _SPLIT_INTERVAL, events_lib.MAX_PITCH)
  edited = melody.copy()
  edited[onset + duration // 2] = events_lib.pitch_to_event(pitch)
  return edited


def _lower_arousal(melody: np.ndarray) -> np.ndarray | None:
  """The note that leaps furthest from the note before merged into it; None with one note."""
  onsets = np.nonzero(melody >= events_lib.FIRST_PITCH_EVENT)[0]
  if len(onsets) < 2:
    return None
  pitches = events_lib.event_to_pitch(melody[onsets].astype(np.int64))
  leap = int(np.argmax(np.abs(np.diff(pitches)))) + 1
  edited = melody.copy()
  edited[onsets[leap]] = events_lib.HOLD
  return edited


def transfer(melody: np.ndarray, requested: int, steps_per_bar: int, thresholds) -> np.ndarray:
  """The melody edited by the rule toward the requested quadrant (an index into EMOTIONS)."""
  melody = np.asarray(melody, np.int64)
  wants_major = requested in (0, 3)  # happy, calm
  wants_high = requested in (0, 1)  # happy, tense
  edited = melody
  for _ in range(2):  # again on the key the first change left, when the mode did not turn
    if bool(judge.features([edited], steps_per_bar).is_major[0]) != wants_major:
      edited = _change_mode(edited, steps_per_bar, wants_major)
  budget = len(melody) // 2
  while (judge.labels([edited], steps_per_bar, thresholds)[0] != requested
         and int((edited != melody).sum()) < budget):
    high = _arousal_score(edited, steps_per_bar, thresholds) > 2.0
    if high == wants_high:
      break  # arousal is right; the mode is what the judge disagrees with
    step = _raise_arousal(edited) if wants_high else _lower_arousal(edited)
    if step is None:
      break
    edited = step
  return edited


def floor(arrays, thresholds, steps_per_bar: int, split: str = "test") -> dict:
  """The rule's judge agreement and steps kept over every (window, other emotion) pair, overall
  and per requested quadrant (scoring.emotion_transfer's pairs)."""
  rows = scoring.opening_windows(arrays, steps_per_bar, split)
  quadrants = len(emotion_lib.EMOTIONS)
  agree, kept, asked = [], [], []
  for row in rows:
    melody = arrays["events"][row, :arrays["lengths"][row]].astype(np.int64)
    own = int(arrays["emotion"][row])
    for shift in range(1, quadrants):
      requested = (own + shift) % quadrants
      edited = transfer(melody, requested, steps_per_bar, thresholds)
      agree.append(judge.labels([edited], steps_per_bar, thresholds)[0] == requested)
      kept.append(float((edited == melody).mean()))
      asked.append(requested)
  agree, kept, asked = np.array(agree), np.array(kept), np.array(asked)
  return {"tunes": int(len(rows)), "pairs": int(len(agree)),
          "judge_agreement": float(agree.mean()), "step_match": float(kept.mean()),
          "step_match_when_agreed": float(kept[agree].mean()) if agree.any() else 0.0,
          "per_quadrant": {emotion_lib.EMOTIONS[q]: {"judge_agreement": float(agree[asked == q].mean()),
                                                     "step_match": float(kept[asked == q].mean())}
                           for q in range(quadrants) if (asked == q).any()}}


def main(argv):
  del argv
  arrays, manifest = cache_lib.load(_CACHE.value)
  result = floor(arrays, judge.thresholds_of(manifest), _STEPS_PER_BAR.value, _SPLIT.value)
  print(f"{result['tunes']} {_SPLIT.value} opening windows, each asked for the three other "
        f"emotions ({result['pairs']} pairs): the rule's judge agreement "
        f"{result['judge_agreement']:.3f}, steps kept {result['step_match']:.3f} "
        f"({result['step_match_when_agreed']:.3f} where the judge agrees)")
  for name, row in result["per_quadrant"].items():
    print(f"  asked {name:>6}: judge {row['judge_agreement']:.3f}, steps kept {row['step_match']:.3f}")
  if _JSON.value:
    pathlib.Path(_JSON.value).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
  flags.mark_flags_as_required(["cache"])
  app.run(main)
