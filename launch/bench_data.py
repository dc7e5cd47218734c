"""Times `prepare` (files -> cache) for a dataset, cache reuse off; prints a table, writes JSON.

  python launch/bench_data.py --dataset=nottingham --source=DIR [--repeats=3] [--json=FILE]
"""

import json
import os
import tempfile
import time

from absl import app, flags

from hrnnvae.data import prepare as prepare_lib

_DATASET = flags.DEFINE_enum("dataset", "nottingham", prepare_lib.DATASETS, "Dataset to prepare.")
_SOURCE = flags.DEFINE_string("source", None, "Raw dataset folder.")
_REPEATS = flags.DEFINE_integer("repeats", 3, "Timed runs (after one untimed warm-up).")
_JSON = flags.DEFINE_string("json", None, "Where to write the figures as JSON.")


def main(argv):
  del argv
  seconds = []
  with tempfile.TemporaryDirectory() as out:
    for repeat in range(_REPEATS.value + 1):
      source = prepare_lib.make_source(_DATASET.value, _SOURCE.value)
      start = time.perf_counter()
      manifest = prepare_lib.prepare(source, out, force=True, progress=False, log=lambda _: None)
      if repeat:  # the first run warms imports and the OS file cache
        seconds.append(time.perf_counter() - start)
  result = {"dataset": _DATASET.value, "files": manifest["files"]["read"],
            "examples": sum(manifest["split_sizes"]["examples"].values()),
            "seconds_min": min(seconds), "seconds_median": sorted(seconds)[len(seconds) // 2],
            "cpus": os.cpu_count()}
  print(f"{'dataset':<14}{'files':>7}{'examples':>10}{'min s':>8}{'median s':>10}{'files/s':>9}")
  print(f"{result['dataset']:<14}{result['files']:>7}{result['examples']:>10}"
        f"{result['seconds_min']:>8.2f}{result['seconds_median']:>10.2f}"
        f"{result['files'] / result['seconds_median']:>9.0f}")
  if _JSON.value:
    with open(_JSON.value, "w") as f:
      json.dump(result, f, indent=1)


if __name__ == "__main__":
  app.run(main)
