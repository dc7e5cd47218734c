"""hrnnvae-eval: every model beside the held-out test set, in one report.

  hrnnvae-eval --workdirs=runs/nottingham,runs/nottingham_lstm_lm --dataset_cache=runs/nottingham/data \
      --num_samples=64 --seeds=0,1,2 --out=docs/results/nottingham
writes report.md (Table-2 and Table-3 style tables, every metric, likelihoods, emotion confusion
matrices, box plots, piano rolls), metrics.csv, likelihood.csv and confusion_*.csv.
"""

from __future__ import annotations

import pathlib
import sys

from absl import app, flags

from hrnnvae import evaluate
from hrnnvae.data import cache as cache_lib
from hrnnvae.sample import SampleError
from hrnnvae.train import checkpoints

_WORKDIRS = flags.DEFINE_list("workdirs", None, "Training workdirs (their export/ is read).")
_CACHE = flags.DEFINE_string("dataset_cache", None, "The prepared cache whose test split is the reference.")
_NUM_SAMPLES = flags.DEFINE_integer("num_samples", 64, "Melodies per emotion, per model and seed.")
_SEEDS = flags.DEFINE_list("seeds", ["0", "1", "2"], "Sampling seeds (the spread is over these).")
_BARS = flags.DEFINE_integer("bars", 16, "Bars per sampled melody (the cache's windows are 16).")
_OUT = flags.DEFINE_string("out", "eval", "Where the report goes.")
_TEMPERATURE = flags.DEFINE_float("temperature", 1.0, "Sampling temperature of the prior samples.")


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  checkpoints.quiet_orbax_logging()
  try:
    if not _WORKDIRS.value or not _CACHE.value:
      raise SampleError("--workdirs and --dataset_cache are required")
    evaluate.run(_WORKDIRS.value, _CACHE.value, _NUM_SAMPLES.value,
                 [int(s) for s in _SEEDS.value], _BARS.value, pathlib.Path(_OUT.value),
                 _TEMPERATURE.value)
  except (SampleError, cache_lib.CacheError) as error:
    print(f"hrnnvae-eval: {error}", file=sys.stderr)
    sys.exit(2)
  print(f"report: {pathlib.Path(_OUT.value) / 'report.md'}")


def run():
  app.run(main)


if __name__ == "__main__":
  run()
