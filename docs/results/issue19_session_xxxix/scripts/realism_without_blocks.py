"""Session (xxxix): what each block of the realism test's features is worth to the feature
classifier. A model's prior samples (seeds, PER_EMOTION a quadrant, its own sampling) against
DRAWS draws of training tunes the test split's size and against the test split, as
draws_by_family.py measures them, with every feature and with each block
(realism.feature_blocks) left out of both sides: the most that samples matching the tunes in
that block could buy; and each repetition feature left out alone. First asked of the rest
share (a pickup, where a tune opens).
  PYTHONPATH=. .venv/bin/python docs/results/issue19_session_xxxix/scripts/realism_without_blocks.py \
      CACHE MODEL BARS SEEDS PER_EMOTION DRAWS
"""
import sys

import numpy as np

from hrnnvae.evaluation import realism

sys.path.insert(0, __file__.rsplit("/", 1)[0] + "/../../issue19_session_xxix/scripts")
from draws_by_family import accuracy  # noqa: E402
from realism_by_family import setup  # noqa: E402


def main(cache, model, bars, seeds, per_emotion, draws):
  arrays, thresholds, sampler, spb, bars, requested = setup(cache, model, bars, per_emotion)
  train = realism.real_tunes(arrays, bars, spb, thresholds, split="train")
  test = realism.real_tunes(arrays, bars, spb, thresholds, split="test")
  names = realism.feature_names(spb)
  left_out = {"every feature": np.ones(len(names), bool)}
  for block in realism.feature_blocks(spb):
    left_out[f"no {block}"] = np.array([not name.startswith(f"{block}/") for name in names])
  for name in names:  # and each of the repetition block's features alone
    if name.startswith("repetition/"):
      left_out[f"no {name}"] = np.array([other != name for other in names])
  print(f"{model}, {bars} bars: {len(names)} features in blocks "
        f"{ {label: int((~keep).sum()) for label, keep in left_out.items()} }")
  train_features = realism.melody_features(train.events, spb)
  test_features = realism.melody_features(test.events, spb)
  index = {tuple(e): i for i, e in enumerate(map(tuple, train.events))}
  for seed in (int(s) for s in seeds.split(",")):
    melodies = [np.asarray(m.events) for m in sampler.sample(requested, bars, seed)]
    generated = realism.generated_melodies(melodies, requested)
    features = realism.melody_features(generated.events, spb)
    for label, columns in left_out.items():
      on_test = accuracy(features[:, columns], test_features[:, columns], generated, test, spb)
      on_draws = [accuracy(features[:, columns],
                           train_features[np.array([index[tuple(e)] for e in draw.events])][:, columns],
                           generated, draw, spb)
                  for draw in realism.tune_draws(train, len(test.events), int(draws), seed)]
      print(f"seed {seed}, {label}: test {on_test:.3f}; {len(on_draws)} draws {np.mean(on_draws):.3f} "
            f"(sd {np.std(on_draws):.3f})", flush=True)


if __name__ == "__main__":
  main(*sys.argv[1:])
