"""Session (xii): the memorizer (realism.training_tunes, draws 0-2, the features classifier) and the
real tunes against themselves, on a cache's validation and test splits.

  PYTHONPATH=. .venv/bin/python docs/results/issue19_session_xii/memorizer.py CACHE STEPS_PER_BAR 16,8
"""

import sys

import numpy as np

from hrnnvae import judge
from hrnnvae.data import cache as cache_lib
from hrnnvae.evaluation import realism, scoring

FEATURES = ("features",)


def main(cache: str, steps_per_bar: int, lengths: str) -> None:
  arrays, manifest = cache_lib.load(cache)
  thresholds = judge.thresholds_of(manifest)
  for split in ("valid", "test"):
    for bars in (int(b) for b in lengths.split(",")):
      real = realism.real_tunes(arrays, bars, steps_per_bar, thresholds, split=split)
      draws = []
      for seed in (0, 1, 2):
        training = realism.training_tunes(arrays, bars, steps_per_bar, thresholds, 64, seed)
        draws.append(scoring.realism_columns(
            realism.model_rows(training, real, steps_per_bar, classifiers=FEATURES)))
      itself = scoring.realism_columns(
          realism.real_against_real(real, steps_per_bar, classifiers=FEATURES))
      mean = {name: np.mean([d[name] for d in draws]) for name in draws[0]}
      columns = " ".join(f"{name[8:] or 'overall'} {value:.3f}" for name, value in mean.items())
      print(split, bars, "real spans", len(real.events), "train spans", len(training.events),
            "tunes", len(np.unique(training.groups)),
            f"| real-vs-real {itself['realism']:.3f} | memorizer {columns}",
            "by seed", [round(d["realism"], 3) for d in draws], flush=True)


if __name__ == "__main__":
  main(sys.argv[1], int(sys.argv[2]), sys.argv[3])
