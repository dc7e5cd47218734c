"""Session (xxvii): what tells the shipped Nottingham model's 32-bar samples from real tunes,
against the test split's spans and against the training split's (7x the tunes).

  PYTHONPATH=. .venv/bin/python docs/results/issue19_session_xxvii/scripts/giveaways_by_pool.py \
      runs/nott_data [SEED]

realism.what_gives_them_away per feature block (its accuracy alone, the block's most different
feature), 64 samples an emotion at the model's own sampling.
"""
import sys

import numpy as np

from hrnnvae import judge, pretrained
from hrnnvae.data import cache as cache_lib
from hrnnvae.evaluation import realism, scoring


def main(cache, seed="0"):
  sampler = pretrained.load("nottingham")
  arrays, manifest = cache_lib.load(cache)
  thresholds = judge.thresholds_of(manifest)
  spb = sampler.steps_per_bar
  requested = np.array(scoring.requested_emotions(64))
  melodies = [m.events for m in sampler.sample(list(requested), 32, int(seed))]
  generated = realism.generated_melodies(melodies, requested)
  for split in ("test", "train"):
    real = realism.real_tunes(arrays, 32, spb, thresholds, split=split)
    print(f"{split}: {len(real.events)} spans from {len(np.unique(real.groups))} tunes", flush=True)
    for row in realism.what_gives_them_away(generated, real, spb):
      print(f"  {row['block']:>16} {row['accuracy']:.3f} +- {row['std']:.3f}  {row['feature']:>14}"
            f" samples {row['generated_mean']:.3f} real {row['real_mean']:.3f}", flush=True)


if __name__ == "__main__":
  main(*sys.argv[1:])
