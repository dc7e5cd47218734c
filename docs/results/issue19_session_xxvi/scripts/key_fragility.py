"""Session (xxvi): how fragile the whole-tune key check is. Every whole tune of a split (read from
MIDI as launch/reconstruct_check.py's tunes check reads them) has a share RATE of its notes moved
to the next note of its own key's scale, up or down at random (rhythm kept, every changed note
still in the scale: the mildest pitch error there is), and its Krumhansl key (the judge's
estimate, emotion.melody_features) is compared with the tune's own; 10 random draws a rate.
Beside it, the share of a tune's steps such edits leave as they were.
  PYTHONPATH=. .venv/bin/python docs/results/issue19_session_xxvi/scripts/key_fragility.py \
      CACHE MIDI_DIR SPLIT
"""
import sys

import numpy as np

from hrnnvae import melody_io
from hrnnvae.data import cache as cache_lib
from hrnnvae.data import emotion as emotion_lib
from hrnnvae.data import events as events_lib

MAJOR, MINOR = (0, 2, 4, 5, 7, 9, 11), (0, 2, 3, 5, 7, 8, 10)
cache, midi_dir, split = sys.argv[1:4]
_, manifest = cache_lib.load(cache)
names = sorted(n for n, s in manifest["split_of_piece"].items() if s == split)
tunes = []
for name in names:
  try:
    tunes.append(melody_io.read_melody(f"{midi_dir}/{name}.mid")[0])
  except Exception as error:  # noqa: BLE001
    print(f"skipped {name}: {error}")


def key(events):
  f = emotion_lib.melody_features(events[None], np.array([len(events)]), np.array([16]))
  return bool(f.is_major[0]), int(f.key_tonic[0])


def scale_neighbour(pitch, up, is_major, tonic):
  degrees = MAJOR if is_major else MINOR
  step = 1 if up else -1
  candidate = pitch + step
  while (candidate - tonic) % 12 not in degrees:
    candidate += step
  return candidate


keys = [key(t) for t in tunes]
print(f"{split}: {len(tunes)} tunes")
print(f"{'rate':>6}{'key kept':>10}{'(min-max of 10 draws)':>24}{'steps kept':>12}")
for rate in (0.02, 0.05, 0.1, 0.15, 0.2, 0.3):
  kept, steps = [], []
  for draw in range(10):
    rng = np.random.default_rng(draw)
    kept_draw, steps_draw = [], []
    for events, (is_major, tonic) in zip(tunes, keys):
      edited = events.copy()
      onsets = np.flatnonzero(events >= events_lib.FIRST_PITCH_EVENT)
      for step in onsets[rng.random(len(onsets)) < rate]:
        pitch = int(events_lib.event_to_pitch(np.int64(events[step])))
        moved = scale_neighbour(pitch, rng.random() < 0.5, is_major, tonic)
        edited[step] = events_lib.pitch_to_event(np.int64(min(max(moved, 21), 108)))
      kept_draw.append(key(edited) == (is_major, tonic))
      steps_draw.append(float((edited == events).mean()))
    kept.append(np.mean(kept_draw))
    steps.append(np.mean(steps_draw))
  print(f"{rate:>6g}{np.mean(kept):>10.3f}{f'({min(kept):.3f}-{max(kept):.3f})':>24}"
        f"{np.mean(steps):>12.3f}")
