"""Session (xxxix): where real Nottingham melodies rest, before building (xxxvii)'s named lever
(a realism column for rests at the last beat of every fourth bar, "where the tunes put them").

For the training split's untransposed 16-bar windows (hrnnvae-data's cache): the share of bars,
phrase ends (every fourth bar of the tune, counted from its first bar: start_bar) against the
rest, with a rest step in their last beat; where in the window the rest steps fall (bar index);
how many are a window's leading rest (the steps before its first note); and, for the realism
test's real side (realism.real_tunes: 32-bar spans of the training split, every meter of 4
steps a beat), the share of spans that begin with a rest.
  python docs/results/issue19_session_xxxix/scripts/where_rests_are.py CACHE
"""

import collections
import sys

import numpy as np

from hrnnvae import judge
from hrnnvae.data import cache as cache_lib
from hrnnvae.data import events as events_lib
from hrnnvae.data import sources as sources_lib
from hrnnvae.evaluation import realism


def rest_steps(events, length):
  """[length] bool: no note sounds (before the first onset, or after a note-off until the next)."""
  resting, out = True, np.zeros(length, bool)
  for t, event in enumerate(events[:length]):
    if event >= events_lib.FIRST_PITCH_EVENT:
      resting = False
    elif event == events_lib.NOTE_OFF:
      resting = True
    out[t] = resting
  return out


def main(cache_dir):
  arrays, manifest = cache_lib.load(cache_dir)
  rows = np.nonzero((arrays["split"] == sources_lib.SPLITS.index("train"))
                    & (arrays["transposition"] == 0))[0]
  counts, by_bar = collections.Counter(), collections.Counter()
  for row in rows:
    length, spb = int(arrays["lengths"][row]), int(arrays["steps_per_bar"][row])
    rests = rest_steps(arrays["events"][row], length)
    first_note = int(np.argmax(~rests)) if (~rests).any() else length
    counts["steps"] += length
    counts["rest_steps"] += int(rests.sum())
    counts["leading_rest_steps"] += first_note
    counts["windows"] += 1
    if arrays["start_bar"][row] == 0:
      counts["windows_at_tune_start"] += 1
      counts["of_those_with_a_leading_rest"] += first_note > 0
    beat = max(spb // 4, 1)
    for bar in range(length // spb):
      kind = "phrase_end" if (int(arrays["start_bar"][row]) + bar + 1) % 4 == 0 else "other"
      last_beat = rests[(bar + 1) * spb - beat:(bar + 1) * spb]
      counts[f"{kind}_bars"] += 1
      counts[f"{kind}_bars_resting_in_last_beat"] += int(last_beat.any())
    for t in np.nonzero(rests)[0]:
      by_bar[int(t) // spb] += 1
  print(f"training windows (untransposed): {counts['windows']}, steps {counts['steps']}")
  print(f"rest share {counts['rest_steps'] / counts['steps']:.4f}; "
        f"leading rests are {counts['leading_rest_steps'] / counts['rest_steps']:.3f} of the rest steps")
  print(f"windows at a tune's start: {counts['windows_at_tune_start']}, "
        f"{counts['of_those_with_a_leading_rest']} of them begin with a rest (an anacrusis)")
  for kind in ("phrase_end", "other"):
    print(f"{kind} bars: {counts[f'{kind}_bars']}, resting in their last beat "
          f"{counts[f'{kind}_bars_resting_in_last_beat'] / counts[f'{kind}_bars']:.4f}")
  print("rest steps by the window's bar:", dict(sorted(by_bar.items())))
  thresholds = judge.thresholds_of(manifest)
  for spb in sorted({int(s) for s in arrays["steps_per_bar"][rows]}):
    try:
      spans = realism.real_tunes(arrays, 32, spb, thresholds, split="train")
    except Exception as error:  # noqa: BLE001 - a report, not a library
      print(f"32-bar spans, {spb} steps a bar: {type(error).__name__}: {error}")
      continue
    if not len(spans.events):
      continue
    leading = [rest_steps(span, len(span))[0] for span in spans.events]
    print(f"32-bar training spans, {spb} steps a bar: {len(leading)}, "
          f"{np.mean(leading):.3f} begin with a rest")


if __name__ == "__main__":
  main(sys.argv[1])
