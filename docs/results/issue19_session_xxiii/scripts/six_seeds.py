"""Session (xxiii): the shipped sampling's figures over test seeds 0-5, the mean of nott_measure.sh's
seeds 0-2 and more_seeds.sh's seeds 3-5 (each sweep's row is already its three seeds' mean).
  python docs/results/issue19_session_xxiii/scripts/six_seeds.py FOLDER...
"""
import json
import pathlib
import sys

import numpy as np

QUADRANTS = ("happy", "tense", "sad", "calm")


def by_quadrant(mean: dict, figure: str) -> str:
  return " / ".join(f"{mean[figure + '_' + quadrant]:.3f}" for quadrant in QUADRANTS)


for folder in map(pathlib.Path, sys.argv[1:]):
  print(f"== {folder}")
  for name, top_p in (("16bars", 0.95), ("32bars", 0.95), ("T1", 0.95), ("T1", 1.0)):
    rows = []
    for suffix in ("", "_seeds345"):
      sweep = json.loads((folder / f"sweep_test_{name}{suffix}.json").read_text())
      rows += [row for key, row in sweep["rows"].items()
               if isinstance(row, dict) and row.get("candidates") == 16 and row.get("top_p") == top_p]
    assert len(rows) == 2, (name, top_p, len(rows))  # one row of each sweep
    mean = {key: np.mean([row[key] for row in rows]) for key in rows[0]
            if isinstance(rows[0][key], float)}
    print(f"{name:6} top-p {top_p}: realism {mean['realism']:.3f} "
          f"(quadrants {by_quadrant(mean, 'realism')}), "
          f"judge {mean['judge']:.3f} (quadrants {by_quadrant(mean, 'judge')}), "
          f"bar repetition {mean['bar_repetition_rate']:.3f}, "
          f"phrase similarity {mean['phrase_similarity']:.3f}, "
          f"note repetition {mean['note_repetition_rate']:.3f}")
