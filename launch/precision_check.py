"""What bfloat16 costs in accuracy: a trained model's test-split likelihood figures with float32
and with bfloat16 matmuls (model.compute_dtype), and how often greedy decoding with a bfloat16
attention cache (model.cache_dtype) picks the same events as float32.

  python launch/precision_check.py --pretrained=nottingham --cache=runs/nottingham/data

The parameters are the same float32 ones in every row; only the arithmetic changes. --json
writes the figures.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
from absl import app, flags

from hrnnvae import pretrained
from hrnnvae.data import cache as cache_lib
from hrnnvae.evaluation import scoring
from hrnnvae.exports import model_dir
from hrnnvae.sample import Sampler

_WORKDIR = flags.DEFINE_string("workdir", None, "A training run (or its export/).")
_PRETRAINED = flags.DEFINE_string("pretrained", None, "A model shipped in hrnnvae/pretrained/.")
_CACHE = flags.DEFINE_string("cache", None, "The prepared cache whose test split is used.")
_JSON = flags.DEFINE_string("json", None, "Where to write the figures.")
_MELODIES = flags.DEFINE_integer("melodies", 64, "Prior melodies for the greedy-decode check.")


def with_dtypes(sampler: Sampler, **dtypes) -> Sampler:
  hp = dataclasses.replace(sampler.hp, **dtypes)
  return Sampler(hp, sampler.params, sampler.description, sampler.export_dir)


def main(argv):
  del argv
  base = (pretrained.load(_PRETRAINED.value) if _PRETRAINED.value
          else Sampler.load(model_dir(_WORKDIR.value)))
  arrays, _ = cache_lib.load(_CACHE.value)
  rows = {}
  for name in ("float32", "bfloat16"):
    row = scoring.likelihood_row(with_dtypes(base, compute_dtype=name), arrays)
    rows[f"compute {name}"] = {k: row[k] for k in ("teacher_forced_accuracy", "sampled_accuracy",
                                                   "cross_entropy_per_step", "latent_gap")}
  emotions = list(np.arange(_MELODIES.value) % 4)
  z = base.prior(len(emotions), seed=0)
  steps = 32 * base.steps_per_bar
  greedy = {name: with_dtypes(base, cache_dtype=name).decode(z, emotions, steps, 0, 1e-4)
            for name in ("float32", "bfloat16")}
  agreement = float((greedy["float32"] == greedy["bfloat16"]).mean())
  first_difference = [int(np.argmax(a != b)) if (a != b).any() else steps
                      for a, b in zip(greedy["float32"], greedy["bfloat16"])]
  print(f"{'':<18}{'TF accuracy':>12}{'greedy acc':>12}{'CE/step':>10}{'latent gap':>12}")
  for name, row in rows.items():
    print(f"{name:<18}{row['teacher_forced_accuracy']:>12.4f}{row['sampled_accuracy']:>12.4f}"
          f"{row['cross_entropy_per_step']:>10.4f}{row['latent_gap']:>12.4f}")
  print(f"greedy 32-bar decodes with a bfloat16 cache: {agreement:.4f} of events equal to "
        f"float32's; first difference at median step {int(np.median(first_difference))} of {steps}")
  if _JSON.value:
    with open(_JSON.value, "w") as f:
      json.dump({"rows": rows, "cache_agreement": agreement,
                 "median_first_difference": int(np.median(first_difference))}, f, indent=1)


if __name__ == "__main__":
  app.run(main)
