"""Session (xvii): which whole test tunes lose their key through `--mode=reconstruct` (as
launch/reconstruct_check.py's tunes check: Sampler.reconstruct at TEMPERATURE, default
greedy (1e-4) as its headline figure, seed 0),
and how: each tune's steps kept, its Krumhansl key and the decode's, and the margin of the
tune's own key over its second-best key (correlation), so that a flip between keys the tune
itself barely tells apart shows as such.
  PYTHONPATH=. .venv/bin/python docs/results/issue19_session_xvii/scripts/whole_tune_keys.py \
      MODEL CACHE MIDI_DIR [TEMPERATURE]
"""
import sys

import numpy as np

from hrnnvae import melody_io, pretrained
from hrnnvae.data import cache as cache_lib
from hrnnvae.data import emotion as emotion_lib
from hrnnvae.data import events as events_lib

NAMES = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]
model, cache, midi_dir = sys.argv[1:4]
temperature = float(sys.argv[4]) if len(sys.argv) > 4 else 1e-4
sampler = pretrained.load_model(model)
_, manifest = cache_lib.load(cache)
names = sorted(n for n, s in manifest["split_of_piece"].items() if s == "test")
profiles = emotion_lib._standardize(emotion_lib.key_profiles())


def key_and_margin(events, spb):
  f = emotion_lib.melody_features(events[None], np.array([len(events)]), np.array([spb]))
  weights = f.pitch_class_weights if hasattr(f, "pitch_class_weights") else None
  return (bool(f.is_major[0]), int(f.key_tonic[0])), float(f.key_correlation[0]), weights


def correlations(events):
  pcs = np.zeros(12)
  current = None
  for e in events:  # duration-weighted pitch classes, holds extend the note
    if e >= events_lib.FIRST_PITCH_EVENT:
      current = int(events_lib.event_to_pitch(np.int64(e))) % 12
    elif e == events_lib.NOTE_OFF:
      current = None
    if current is not None:
      pcs[current] += 1
  return emotion_lib._standardize(pcs[None]) @ profiles.T


rows = []
for name in names:
  path = f"{midi_dir}/{name}.mid"
  try:
    events, meter = melody_io.read_melody(path)
  except Exception as error:  # noqa: BLE001
    print(f"skipped {name}: {error}")
    continue
  spb = sampler.bar_steps(meter)
  decoded = sampler.reconstruct(events, meter, [None], 0, temperature)[0]
  match = float((decoded == events).mean())
  (own_key, _, _), (dec_key, _, _) = key_and_margin(events, spb), key_and_margin(decoded, spb)
  corr = np.sort(correlations(events)[0])[::-1]
  rows.append((name, match, own_key, dec_key, corr[0] - corr[1], len(events) // spb))
kept = np.array([r[2] == r[3] for r in rows])
match = np.array([r[1] for r in rows])
margin = np.array([r[4] for r in rows])
print(f"{len(rows)} tunes: key kept {kept.mean():.3f}; steps kept {match.mean():.3f}")
print(f"key lost: {int((~kept).sum())} tunes, steps kept {match[~kept].mean():.3f}, own-key margin "
      f"median {np.median(margin[~kept]):.3f} (kept: {np.median(margin[kept]):.3f})")
for lo, hi in ((0, 0.02), (0.02, 0.05), (0.05, 0.1), (0.1, 1)):
  sel = (margin >= lo) & (margin < hi)
  print(f"  margin [{lo}, {hi}): {sel.sum()} tunes, key kept {kept[sel].mean() if sel.any() else float('nan'):.3f}")
for name, m, own, dec, mar, bars in rows:
  if own != dec:
    kind = ("relative" if own[0] != dec[0] and (dec[1] - own[1]) % 12 in (3, 9)
            else "parallel" if own[0] != dec[0] and dec[1] == own[1]
            else f"fifth" if own[0] == dec[0] and (dec[1] - own[1]) % 12 in (5, 7) else "other")
    print(f"  {name:14s} {bars:3d} bars kept {m:.3f} {NAMES[own[1]]}{'' if own[0] else 'm'} -> "
          f"{NAMES[dec[1]]}{'' if dec[0] else 'm'} ({kind}), own margin {mar:.3f}")
