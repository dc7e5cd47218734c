"""Every per-melody metric on one split of a prepared cache (the reference row for evaluation),
and the counting baselines' likelihood rows on it (metrics/counting.py).

  python launch/reference_metrics.py --cache=runs/nottingham/data [--split=test] [--json=FILE]
"""

import json

import numpy as np
from absl import app, flags

from hrnnvae.data import cache as cache_lib
from hrnnvae.data import sources as sources_lib
from hrnnvae.metrics import corpus, counting, melody

_CACHE = flags.DEFINE_string("cache", None, "A prepared cache.", required=True)
_SPLIT = flags.DEFINE_enum("split", "test", sources_lib.SPLITS, "Which split.")
_JSON = flags.DEFINE_string("json", None, "Where to write the figures.")


def main(argv):
  del argv
  arrays, manifest = cache_lib.load(_CACHE.value)
  rows = np.nonzero((arrays["split"] == sources_lib.SPLITS.index(_SPLIT.value))
                    & (arrays["transposition"] == 0))[0]
  per_melody = [melody.all_metrics(arrays["events"][r, :arrays["lengths"][r]],
                                   float(arrays["qpm"][r]), int(arrays["steps_per_bar"][r]),
                                   tuple(arrays["time_signature"][r]))
                for r in rows]
  names = list(per_melody[0])
  table = {name: (float(np.mean([m[name] for m in per_melody])),
                  float(np.std([m[name] for m in per_melody]))) for name in names}
  train = np.nonzero((arrays["split"] == 0) & (arrays["transposition"] == 0))[0]
  melodies = [arrays["events"][r, :arrays["lengths"][r]] for r in rows]
  table["bleu4_vs_train"] = (corpus.corpus_bleu(
      melodies, [arrays["events"][r, :arrays["lengths"][r]] for r in train]), 0.0)
  print(f"{manifest['dataset']} {_SPLIT.value}: {len(rows)} melodies")
  for name, (mean, std) in table.items():
    print(f"  {name:<24}{mean:>10.3f} ± {std:.3f}")
  for model, row in counting.reference_rows(arrays, _SPLIT.value).items():
    print(f"{model}: " + ", ".join(f"{name} {value:.3f}" for name, value in row.items()))
    table.update({f"{model}/{name}": (value, 0.0) for name, value in row.items()})
  if _JSON.value:
    with open(_JSON.value, "w") as f:
      json.dump(table, f, indent=1)


if __name__ == "__main__":
  app.run(main)
