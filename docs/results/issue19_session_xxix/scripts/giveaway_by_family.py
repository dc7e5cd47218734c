"""Session (xxix): what gives a model's samples away against one family of training tunes at a
time (realism.what_gives_them_away, seed 0).

  PYTHONPATH=. .venv/bin/python docs/results/issue19_session_xxix/scripts/giveaway_by_family.py \
      CACHE MODEL BARS PER_EMOTION FAMILY [FAMILY ...]
"""
import sys

import numpy as np

from hrnnvae.evaluation import realism

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from realism_by_family import family, setup  # noqa: E402


def main(cache, model, bars, per_emotion, *families):
  arrays, thresholds, sampler, spb, bars, requested = setup(cache, model, bars, per_emotion)
  names = arrays["piece_names"]
  train = realism.real_tunes(arrays, bars, spb, thresholds, split="train")
  generated = realism.generated_melodies(
      [np.asarray(m.events) for m in sampler.sample(requested, bars, 0)], requested)
  for name in families:
    real = train.subset(np.array([family(names[p]) == name for p in train.groups]))
    print(f"{name}: {len(real.events)} training spans of {len(np.unique(real.groups))} tunes: "
          "block | accuracy | most different feature | model | real", flush=True)
    for row in realism.what_gives_them_away(generated, real, spb):
      print(f"  {row['block']} | {row['accuracy']:.3f} | {row['feature']} | "
            f"{row['generated_mean']:.3f} | {row['real_mean']:.3f}", flush=True)


if __name__ == "__main__":
  main(*sys.argv[1:])
