"""ashover21 as the test set has it, and the shipped model's transfers of it to sad and tense
(hrnnvae-sample --pretrained=nottingham --mode=reconstruct --input_midi=.../ashover21.mid
--emotion=sad|tense --noaudio --output_dir=/tmp/ash_EMOTION), drawn one above the other.

  PYTHONPATH=. python docs/results/issue19_session_xiv/rolls/draw.py DIR/MIDI/melody/ashover21.mid [OUT.png]
(OUT.png since (xviii); default this folder's ashover21_transfer.png.)
"""
import pathlib
import sys

import note_seq

from hrnnvae import render
from hrnnvae.data import events as events_lib

source = pathlib.Path(sys.argv[1])
meter = note_seq.midi_file_to_note_sequence(str(source)).time_signatures[0]
steps_per_bar = events_lib.steps_per_bar(meter.numerator, meter.denominator)
melodies, titles = [], []
for path, title in ((source, "ashover21 (test)"),
                    (pathlib.Path("/tmp/ash_sad/reconstruct_000_sad.mid"), "asked sad"),
                    (pathlib.Path("/tmp/ash_tense/reconstruct_000_tense.mid"), "asked tense")):
  sequence = note_seq.midi_file_to_note_sequence(str(path))
  events = events_lib.quantized_melody_events(events_lib.quantize(sequence))
  melodies.append(events)
  kept = ""
  if len(melodies) > 1:
    n = min(len(events), len(melodies[0]))
    kept = f", {(events[:n] == melodies[0][:n]).mean():.2f} of the steps kept"
  titles.append(title + kept)
render.write_piano_rolls(melodies, titles, pathlib.Path(sys.argv[2]) if len(sys.argv) > 2
                         else pathlib.Path(__file__).parent / "ashover21_transfer.png",
                         steps_per_bar)
