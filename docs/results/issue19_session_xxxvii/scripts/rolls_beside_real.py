# Session (xxxvii): arms' happy 32-bar rolls (seed 0, each arm's own sampling; hrnnvae-sample's
# sample_000_happy.mid in each FOLDER) stacked under two real 32-bar training spans the judge
# calls happy (the same two as (xxxvi)'s picture), in one picture.
#   PYTHONPATH=. .venv/bin/python docs/results/issue19_session_xxxvii/scripts/rolls_beside_real.py \
#       CACHE OUT.png FOLDER:LABEL [FOLDER:LABEL ...]
import pathlib
import sys

import numpy as np
from note_seq import midi_io

from hrnnvae import judge, render
from hrnnvae.data import cache as cache_lib
from hrnnvae.data import events as events_lib
from hrnnvae.evaluation import realism

arrays, manifest = cache_lib.load(sys.argv[1])
real = realism.real_tunes(arrays, 32, 16, judge.thresholds_of(manifest), "train")
happy = np.nonzero(real.quadrants == 0)[0]
picked = [happy[0], happy[len(happy) // 2]]
melodies = [real.events[i] for i in picked]
titles = [f"training span, piece {real.groups[i]} (happy)" for i in picked]
for arm in sys.argv[3:]:
  folder, label = arm.split(":", 1)
  sequence = midi_io.midi_file_to_note_sequence(str(pathlib.Path(folder) / "sample_000_happy.mid"))
  melodies.append(events_lib.quantized_melody_events(events_lib.quantize(sequence), num_steps=512))
  titles.append(f"{label}, asked happy, seed 0")
render.write_piano_rolls(melodies, titles, pathlib.Path(sys.argv[2]), 16)
