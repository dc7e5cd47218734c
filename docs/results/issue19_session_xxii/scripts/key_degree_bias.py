"""Session (xxii): where whole test tunes' reconstructions move their pitch weight, by scale degree
of the tune's own Krumhansl key (the judge's duration-weighted pitch classes), so that a bias of
the decoder toward some degree (which would flip a barely-told key to its relative or a fifth)
shows. Whole tunes through Sampler.reconstruct as launch/reconstruct_check.py's tunes check
(greedy, seed 0); the shares are of each tune's sounding steps, averaged over tunes.
  PYTHONPATH=. .venv/bin/python docs/results/issue19_session_xxii/scripts/key_degree_bias.py \
      MODEL CACHE MIDI_DIR
"""
import sys

import numpy as np

from hrnnvae import melody_io, pretrained
from hrnnvae.data import cache as cache_lib
from hrnnvae.data import emotion as emotion_lib

DEGREES = ["1", "b2", "2", "b3", "3", "4", "#4", "5", "b6", "6", "b7", "7"]
model, cache, midi_dir = sys.argv[1:4]
sampler = pretrained.load_model(model)
_, manifest = cache_lib.load(cache)
names = sorted(n for n, s in manifest["split_of_piece"].items() if s == "test")


def key_of(events, spb):
  f = emotion_lib.melody_features(events[None], np.array([len(events)]), np.array([spb]))
  return bool(f.is_major[0]), int(f.key_tonic[0])


rows = {True: [], False: []}
flips = {True: [], False: []}
for name in names:
  try:
    events, meter = melody_io.read_melody(f"{midi_dir}/{name}.mid")
  except Exception as error:  # noqa: BLE001
    print(f"skipped {name}: {error}")
    continue
  spb = sampler.bar_steps(meter)
  decoded = sampler.reconstruct(events, meter, [None], 0, 1e-4)[0]
  major, tonic = key_of(events, spb)
  own, dec = (emotion_lib.pitch_class_weights(m[None], [len(m)])[0] for m in (events, decoded))
  own, dec = np.roll(own / own.sum(), -tonic), np.roll(dec / max(dec.sum(), 1), -tonic)
  rows[major].append((own, dec))
  flips[major].append(key_of(decoded, spb) != (major, tonic))
for major in (True, False):
  if not rows[major]:
    continue
  own = np.mean([r[0] for r in rows[major]], 0)
  dec = np.mean([r[1] for r in rows[major]], 0)
  print(f"{'major' if major else 'minor'} tunes: {len(rows[major])}, key lost "
        f"{np.mean(flips[major]):.3f}")
  print("  degree      " + " ".join(f"{d:>6s}" for d in DEGREES))
  print("  tunes       " + " ".join(f"{v:6.3f}" for v in own))
  print("  decodes     " + " ".join(f"{v:6.3f}" for v in dec))
  print("  difference  " + " ".join(f"{v:+6.3f}" for v in dec - own))
  lost = [r for r, f in zip(rows[major], flips[major]) if f]
  if lost:
    diff = np.mean([r[1] - r[0] for r in lost], 0)
    print("  ... lost    " + " ".join(f"{v:+6.3f}" for v in diff))
