"""Session (xxviii): how much of realism's figure is the size of the real pool it is measured against.

  PYTHONPATH=. .venv/bin/python docs/results/issue19_session_xxviii/scripts/realism_by_pool_size.py \
      CACHE MODEL BARS SEEDS PER_EMOTION [DRAWS] [CLASSIFIER]

MODEL: a shipped model's name or a model folder. For each seed: PER_EMOTION prior samples an
emotion at the model's own sampling, told (CLASSIFIER, default features: realism.compare, 3 x 5
folds) from
  the test split's spans;
  the training split's spans, whole tunes drawn at random until as many spans as the test split
  has (DRAWS draws), then as many as the samples, then all of them;
and two controls: the drawn training spans against the test spans, and the training split
against itself in two halves by tune (realism.real_against_real).
"""
import sys

import numpy as np

from hrnnvae import judge, pretrained
from hrnnvae.data import cache as cache_lib
from hrnnvae.evaluation import realism, scoring
from hrnnvae.sample import Sampler


def tunes_up_to(pool, count, rng):
  """pool's spans of whole tunes drawn at random until `count` spans (the last tune cut)."""
  keep = []
  for tune in rng.permutation(np.unique(pool.groups)):
    keep.extend(np.nonzero(pool.groups == tune)[0])
    if len(keep) >= count:
      break
  return pool.subset(np.sort(np.array(keep[:count], np.int64)))


CLASSIFIER = ["features"]


def accuracy(generated, real, spb):
  values = []
  for seed in range(realism.REPEATS):
    values.extend(realism.compare(generated, real, spb, seed, tuple(CLASSIFIER))[CLASSIFIER[0]])
  return float(np.mean(values))


def main(cache, model, bars, seeds, per_emotion, draws="5", classifier="features"):
  CLASSIFIER[0] = classifier
  sampler = Sampler.load(model) if "/" in model else pretrained.load(model)
  arrays, manifest = cache_lib.load(cache)
  thresholds = judge.thresholds_of(manifest)
  spb, bars = sampler.steps_per_bar, int(bars)
  test = realism.real_tunes(arrays, bars, spb, thresholds, split="test")
  train = realism.real_tunes(arrays, bars, spb, thresholds, split="train")
  print(f"{bars} bars: test {len(test.events)} spans of {len(np.unique(test.groups))} tunes, "
        f"train {len(train.events)} of {len(np.unique(train.groups))}", flush=True)
  requested = scoring.requested_emotions(int(per_emotion))
  table = {}
  for seed in (int(s) for s in seeds.split(",")):
    melodies = [np.asarray(m.events) for m in sampler.sample(requested, bars, seed)]
    generated = realism.generated_melodies(melodies, requested)
    row = {"test": accuracy(generated, test, spb)}
    rng = np.random.default_rng(seed)
    for size in (len(test.events), len(generated.events), len(train.events)):
      count = min(size, len(train.events))
      runs = int(draws) if count < len(train.events) else 1
      drawn = [tunes_up_to(train, count, rng) for _ in range(runs)]
      values = [accuracy(generated, d, spb) for d in drawn]
      row[f"train {count}"] = (float(np.mean(values)), float(np.std(values)))
      if seed == int(seeds.split(",")[0]):
        control = [accuracy(d, test, spb) for d in drawn]
        row[f"control train {count} vs test"] = (float(np.mean(control)), float(np.std(control)))
    print(f"seed {seed}: " + "; ".join(
        f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v[0]:.3f} +- {v[1]:.3f}"
        for k, v in row.items()), flush=True)
    for k, v in row.items():
      table.setdefault(k, []).append(v if isinstance(v, float) else v[0])
  halves = realism.real_against_real(train, spb, classifiers=(classifier,))
  print(f"control train halves: {halves[0]['accuracy']:.3f}", flush=True)
  print("mean over seeds: " + "; ".join(f"{k} {np.mean(v):.3f}" for k, v in table.items()))


if __name__ == "__main__":
  main(*sys.argv[1:])
