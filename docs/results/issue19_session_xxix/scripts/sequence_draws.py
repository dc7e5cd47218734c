"""Session (xxix): the sequence classifier against twenty draws of training tunes the test
split's size (one cross-validation each, seed 0's samples), and against the test split.

  PYTHONPATH=. .venv/bin/python docs/results/issue19_session_xxix/scripts/sequence_draws.py \
      CACHE MODEL BARS PER_EMOTION DRAWS
"""
import sys

import numpy as np

from hrnnvae.evaluation import realism

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from realism_by_family import setup  # noqa: E402


def main(cache, model, bars, per_emotion, draws):
  arrays, thresholds, sampler, spb, bars, requested = setup(cache, model, bars, per_emotion)
  train = realism.real_tunes(arrays, bars, spb, thresholds, split="train")
  test = realism.real_tunes(arrays, bars, spb, thresholds, split="test")
  generated = realism.generated_melodies(
      [np.asarray(m.events) for m in sampler.sample(requested, bars, 0)], requested)
  sequence = lambda real: float(realism.compare(generated, real, spb, 0, ("sequence",))["sequence"].mean())  # noqa: E731
  held_out = sequence(test)
  print(f"test {held_out:.3f}", flush=True)
  values = []
  for draw in realism.tune_draws(train, len(test.events), int(draws), 0):
    values.append(sequence(draw))
    print(f"draw {len(values)}: {values[-1]:.3f}", flush=True)
  values = np.array(values)
  print(f"draws {values.mean():.3f} (sd {values.std():.3f}, {values.min():.3f}-{values.max():.3f}); "
        f"at or under the test's {float((values <= held_out).mean()):.2f}")


if __name__ == "__main__":
  main(*sys.argv[1:])
