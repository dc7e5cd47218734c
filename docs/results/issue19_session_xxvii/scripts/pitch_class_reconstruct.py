"""Whole tunes through Sampler.reconstruct at several reconstruct_pitch_classes weights.

Needs the option it measures, which was not kept: apply reconstruct_pitch_classes.patch (beside
this script; made against 01e15f1) first. Weight 0 is the shipped reconstruction, bit for bit.

  PYTHONPATH=. python docs/results/issue19_session_xxvii/scripts/pitch_class_reconstruct.py \
      MODEL CACHE MIDI_DIR SPLIT WEIGHTS [TEMPERATURE]

MODEL: a shipped model's name (hrnnvae/pretrained/) or an export folder; CACHE: the prepared cache
whose manifest names the split of each tune; SPLIT: valid or test; WEIGHTS: comma-separated.
For each weight: the share of steps kept (mean over tunes, and tunes at >= 0.8), the share of
tunes whose Krumhansl key is kept (launch/reconstruct_check.py's check_tunes, with the split
chosen), and onset pitch (where the tune and its decode both strike a note, the share of the
same pitch) and the share of pitch onsets in the tune's section's most used pitch class.
"""

import pathlib
import sys

import numpy as np

from hrnnvae import melody_io, pretrained
from hrnnvae.data import cache as cache_lib
from hrnnvae.data import events as events_lib
from hrnnvae.sample import Sampler
from launch.reconstruct_check import _key


def main(model, cache, midi_dir, split, weights, temperature="0.0001"):
  sampler = (pretrained.load(model) if not pathlib.Path(model).is_dir()
             else Sampler.load(model))
  _, manifest = cache_lib.load(cache)
  names = sorted(n for n, s in manifest["split_of_piece"].items() if s == split)
  tunes = []
  for name in names:
    path = pathlib.Path(midi_dir) / f"{name}.mid"
    if path.is_file():
      try:
        tunes.append(melody_io.read_melody(path))
      except Exception as error:  # noqa: BLE001 - counted, not fatal
        print(f"skipped {path}: {error}")
  print(f"{model}: {len(tunes)} {split} tunes, T {temperature}")
  print(f"{'weight':>7}{'steps':>8}{'>=0.8':>7}{'key':>7}{'onset pitch':>13}{'tonic share':>13}")
  for weight in [float(w) for w in weights.split(",")]:
    sampler.steer(reconstruct_pitch_classes=weight)
    steps, keys, same, both, tonic, struck = [], [], 0, 0, 0, 0
    for events, meter in tunes:
      spb = sampler.bar_steps(meter)
      decoded = sampler.reconstruct(events, meter, [None], 0, float(temperature))[0]
      steps.append(float((decoded == events).mean()))
      keys.append(_key(decoded, spb) == _key(events, spb))
      onsets = (events >= events_lib.FIRST_PITCH_EVENT) & (decoded >= events_lib.FIRST_PITCH_EVENT)
      same += int((decoded[onsets] == events[onsets]).sum())
      both += int(onsets.sum())
      classes = lambda e: (e[e >= events_lib.FIRST_PITCH_EVENT] - events_lib.FIRST_PITCH_EVENT
                           + events_lib.MIN_PITCH) % 12
      top = np.bincount(classes(events), minlength=12).argmax()
      tonic += int((classes(decoded) == top).sum())
      struck += int((decoded >= events_lib.FIRST_PITCH_EVENT).sum())
    print(f"{weight:>7g}{np.mean(steps):>8.3f}{np.mean(np.array(steps) >= 0.8):>7.3f}"
          f"{np.mean(keys):>7.3f}{same / max(both, 1):>13.3f}{tonic / max(struck, 1):>13.3f}",
          flush=True)


if __name__ == "__main__":
  main(*sys.argv[1:])
