"""Session (xxix): does a pool's family mix decide its realism figure? Many draws of whole
training tunes the test split's size (realism.tune_draws), each told from a model's samples by
the feature classifier (realism.compare's folds and balancing, REPEATS cross-validations), with
each draw's share of spans from one family (default morris), and the test split beside them.

  PYTHONPATH=. .venv/bin/python docs/results/issue19_session_xxix/scripts/draws_by_family.py \
      CACHE MODEL BARS SEEDS PER_EMOTION DRAWS [FAMILY] [SPLIT]

SPLIT (default test): the held-out split placed among the draws (valid: the validation split).
"""
import sys

import numpy as np

from hrnnvae.evaluation import realism

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from realism_by_family import family, setup  # noqa: E402


def accuracy(features_g, features_r, generated, real, spb):
  """realism.compare's features accuracy, mean over REPEATS, from precomputed features (the
  fold loop realism.pool_rows shares with compare)."""
  inputs = {"features": np.concatenate([features_g, features_r])}
  return float(np.mean([v for seed in range(realism.REPEATS) for v in realism._cross_validated(
      inputs, generated, real, seed, ("features",))["features"]]))


def main(cache, model, bars, seeds, per_emotion, draws, family_name="morris", split="test"):
  arrays, thresholds, sampler, spb, bars, requested = setup(cache, model, bars, per_emotion)
  names = arrays["piece_names"]
  train = realism.real_tunes(arrays, bars, spb, thresholds, split="train")
  test = realism.real_tunes(arrays, bars, spb, thresholds, split=split)
  train_features = realism.melody_features(train.events, spb)
  test_features = realism.melody_features(test.events, spb)
  is_family = lambda pool: np.array([family(names[p]) == family_name for p in pool.groups])  # noqa: E731
  rows = []
  for seed in (int(s) for s in seeds.split(",")):
    melodies = [np.asarray(m.events) for m in sampler.sample(requested, bars, seed)]
    generated = realism.generated_melodies(melodies, requested)
    generated_features = realism.melody_features(generated.events, spb)
    test_accuracy = accuracy(generated_features, test_features, generated, test, spb)
    index = {tuple(e): i for i, e in enumerate(map(tuple, train.events))}
    for draw in realism.tune_draws(train, len(test.events), int(draws), seed):
      rows_of = np.array([index[tuple(e)] for e in draw.events])
      value = accuracy(generated_features, train_features[rows_of], generated, draw, spb)
      rows.append((seed, value, float(is_family(draw).mean())))
    seed_rows = np.array([r[1:] for r in rows if r[0] == seed])
    below = float((seed_rows[:, 0] <= test_accuracy).mean())
    print(f"seed {seed}: {split} {test_accuracy:.3f} ({family_name} {is_family(test).mean():.2f} of its "
          f"spans); {len(seed_rows)} draws {seed_rows[:, 0].mean():.3f} (sd {seed_rows[:, 0].std():.3f}, "
          f"{seed_rows[:, 0].min():.3f}-{seed_rows[:, 0].max():.3f}), share of draws at or under "
          f"the test's {below:.2f}", flush=True)
  table = np.array([r[1:] for r in rows])
  correlation = np.corrcoef(table[:, 0], table[:, 1])[0, 1]
  print(f"all draws: accuracy against {family_name} share, correlation {correlation:+.2f}")
  for low, high in ((0, 0.05), (0.05, 0.15), (0.15, 0.25), (0.25, 1.01)):
    mine = (table[:, 1] >= low) & (table[:, 1] < high)
    if mine.any():
      print(f"  {family_name} share {low:.2f}-{high:.2f}: {mine.sum():3d} draws, accuracy "
            f"{table[mine, 0].mean():.3f}")


if __name__ == "__main__":
  main(*sys.argv[1:])
