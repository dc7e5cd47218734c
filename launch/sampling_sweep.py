"""Which sampling temperature makes the best tunes: prior samples at several temperatures,
each scored against the test split with the harness's metrics (no likelihoods).

  python launch/temperature_sweep.py --pretrained=nottingham --cache=runs/nottingham/data \
      --temperatures=0.5,0.6,0.7,0.8,0.9,1.0 --num_samples=32 --seeds=0,1 --bars=16 \
      --json=docs/results/temperature_sweep.json

For each temperature: feature-set overlap with the test set (higher: closer to real tunes),
repeated 4-grams, bar repetition and 4-bar phrase similarity (structure a listener hears), leaps
over a fourth, the judge's emotion agreement, and structure_gap (the mean absolute difference
from the test set over the four structure columns); the test set's own values head the table.
The temperature `choose` picks becomes config.sample.temperature (configs/default.py), which every
export records as its own sampling temperature.
"""

from __future__ import annotations

import json

import numpy as np
from absl import app, flags

from hrnnvae import latent_prior as latent_prior_lib
from hrnnvae import pretrained
from hrnnvae.data import cache as cache_lib
from hrnnvae.evaluation import scoring
from hrnnvae.exports import model_dir
from hrnnvae.sample import Sampler

_WORKDIR = flags.DEFINE_string("workdir", None, "A training run (or its export/).")
_PRETRAINED = flags.DEFINE_string("pretrained", None, "A model shipped in hrnnvae/pretrained/.")
_CACHE = flags.DEFINE_string("cache", None, "The prepared cache whose test split is the reference.")
_TEMPERATURES = flags.DEFINE_list("temperatures", ["0.5", "0.6", "0.7", "0.8", "0.9", "1.0"],
                                  "Sampling temperatures.")
_NUM_SAMPLES = flags.DEFINE_integer("num_samples", 32, "Melodies per emotion and seed.")
_SEEDS = flags.DEFINE_list("seeds", ["0", "1"], "Sampling seeds.")
_BARS = flags.DEFINE_integer("bars", 16, "Bars per melody.")
_JSON = flags.DEFINE_string("json", None, "Where to write the figures.")
_PRIOR = flags.DEFINE_enum("prior", "auto", list(latent_prior_lib.KINDS),
                           "Where z comes from: the model's fitted latent prior, or N(0, I).")

STRUCTURE = ("ngram4_repetition_rate", "bar_repetition_rate", "phrase_similarity", "leap_rate")
COLUMNS = ("set_overlap", *STRUCTURE, "emotion_consistency", "structure_gap")
OVERLAP_FLOOR = 0.75  # issue 8's bar for the prior samples' feature overlap with the test set


def choose(rows: dict) -> str:
  """The rule for the default: among temperatures whose feature overlap reaches OVERLAP_FLOOR
  (tunes that are still on the data's feature manifold), the one whose structure is closest to
  the test set's (smallest structure_gap); the best overlap if none reaches the floor.

  (Until the latent prior, the rule kept temperatures within 0.01 of the best overlap: with the
  fitted prior that picked T=0.9, where bar repetition falls to 0.18 against the test set's
  0.43; BUILD_NOTES.md.)"""
  sampled = {name: row for name, row in rows.items() if name.startswith("T=")}
  close = {name: row for name, row in sampled.items() if row["set_overlap"] >= OVERLAP_FLOOR}
  if not close:
    return max(sampled, key=lambda name: sampled[name]["set_overlap"])
  return min(close, key=lambda name: close[name]["structure_gap"])


def main(argv):
  del argv
  sampler = (pretrained.load(_PRETRAINED.value) if _PRETRAINED.value
             else Sampler.load(model_dir(_WORKDIR.value)))
  print(f"prior: {sampler.use_prior(_PRIOR.value)}")
  arrays, manifest = cache_lib.load(_CACHE.value)
  test_row, reference_values, reference_melodies = scoring.test_reference(arrays, manifest)
  rows = {"test set": {name: float(np.mean(test_row[name])) for name in COLUMNS[:-2]}}
  rows["test set"]["emotion_consistency"] = float(np.mean(test_row["emotion_consistency"]))
  rows["test set"]["structure_gap"] = 0.0
  for temperature in map(float, _TEMPERATURES.value):
    per_seed, _, _ = scoring.evaluate_model(
        sampler, arrays, manifest, _NUM_SAMPLES.value, [int(s) for s in _SEEDS.value], _BARS.value,
        reference_values, reference_melodies, temperature)
    row = {name: float(np.mean([seed[name] for seed in per_seed])) for name in COLUMNS[:-1]}
    row["structure_gap"] = float(np.mean([abs(row[n] - rows["test set"][n]) for n in STRUCTURE]))
    rows[f"T={temperature:g}"] = row
    print(f"T={temperature:g} done", flush=True)
  print(f"{'':<10}" + "".join(f"{c[:14]:>15}" for c in COLUMNS))
  for name, row in rows.items():
    print(f"{name:<10}" + "".join(f"{row[c]:>15.3f}" for c in COLUMNS))
  chosen = choose(rows)
  print(f"chosen: {chosen} (structure closest to the test set's among temperatures whose "
        f"overlap is at least {OVERLAP_FLOOR})")
  if _JSON.value:
    with open(_JSON.value, "w") as f:
      json.dump({"model": _PRETRAINED.value or _WORKDIR.value, "num_samples": _NUM_SAMPLES.value,
                 "seeds": _SEEDS.value, "bars": _BARS.value, "rows": rows, "chosen": chosen}, f,
                indent=1)


if __name__ == "__main__":
  app.run(main)
