"""Session (xxix): is the test split easy for every setting, or only for the ones chosen on it?

  PYTHONPATH=. .venv/bin/python docs/results/issue19_session_xxix/scripts/settings_against_pools.py \
      CACHE MODEL BARS SEEDS PER_EMOTION SETTING [SETTING ...]

SETTING: name:key=value,key=value (Sampler.steer's arguments; "shipped:" is the model's own).
For each setting and seed: PER_EMOTION prior samples an emotion, told by the feature classifier
(realism.compare, REPEATS cross-validations) from the test split's spans, then from the training
split's spans in realism.pool_rows' two pools (POOL_DRAWS draws of whole tunes as many spans as
the test split has, seeded by the sampling seed; all of them), as hrnnvae-eval's second realism
table does. A setting chosen on the test split should look better there than against the draws
by more than a setting the test split turned down.
"""
import sys

import numpy as np

from hrnnvae import judge, pretrained
from hrnnvae.data import cache as cache_lib
from hrnnvae.evaluation import realism, scoring
from hrnnvae.sample import Sampler


def parse(setting):
  name, _, pairs = setting.partition(":")
  options = {}
  for pair in filter(None, pairs.split(",")):
    key, value = pair.split("=")
    options[key] = float(value) if "." in value else int(value)
  return name, options


def test_accuracy(generated, real, spb):
  values = [v for r in range(realism.REPEATS)
            for v in realism.compare(generated, real, spb, r, ("features",))["features"]]
  return float(np.mean(values))


def main(cache, model, bars, seeds, per_emotion, *settings):
  arrays, manifest = cache_lib.load(cache)
  thresholds = judge.thresholds_of(manifest)
  bars = int(bars)
  requested = scoring.requested_emotions(int(per_emotion))
  for setting in settings:
    name, options = parse(setting)
    sampler = Sampler.load(model) if "/" in model else pretrained.load(model)
    sampler.steer(**options)
    spb = sampler.steps_per_bar
    test = realism.real_tunes(arrays, bars, spb, thresholds, split="test")
    train = realism.real_tunes(arrays, bars, spb, thresholds, split="train")
    table = {"test": [], "drawn": [], "all": []}
    for seed in (int(s) for s in seeds.split(",")):
      melodies = [np.asarray(m.events) for m in sampler.sample(requested, bars, seed)]
      generated = realism.generated_melodies(melodies, requested)
      row = {"test": test_accuracy(generated, test, spb)}
      for pool in realism.pool_rows(generated, train, len(test.events), spb, seed=seed):
        row[pool["pool"]] = pool["accuracy"]
        if pool["pool"] == "drawn":
          spread = (pool["lowest"], pool["highest"])
      print(f"{name} {options} seed {seed}: test {row['test']:.3f}; drawn {row['drawn']:.3f} "
            f"({spread[0]:.3f}-{spread[1]:.3f}); all {row['all']:.3f}", flush=True)
      for key, value in row.items():
        table[key].append(value)
    means = {key: float(np.mean(values)) for key, values in table.items()}
    print(f"{name} mean over seeds {seeds}: test {means['test']:.3f}; drawn {means['drawn']:.3f}; "
          f"all {means['all']:.3f}; drawn - test {means['drawn'] - means['test']:+.3f}", flush=True)


if __name__ == "__main__":
  main(*sys.argv[1:])
