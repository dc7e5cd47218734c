"""Session (xxvii): what tells the shipped Nottingham model's 32-bar samples from real tunes,
against the test split's spans and against the training split's (7x the tunes).

  PYTHONPATH=. .venv/bin/python docs/results/issue19_session_xxvii/scripts/giveaways_by_pool.py \
      runs/nott_data [SEED]

On 64 samples an emotion at the model's own sampling:
  realism.what_gives_them_away per feature block (its accuracy alone, the block's most different
  feature), against each pool;
  phrase similarity (metrics/melody.phrase_similarity, 4-bar phrases) and bar repetition per
  requested quadrant, beside each pool's spans per judged quadrant: where the samples restate.
"""
import sys

import numpy as np

from hrnnvae import judge, pretrained
from hrnnvae.data import cache as cache_lib
from hrnnvae.data import emotion as emotion_lib
from hrnnvae.evaluation import realism, scoring
from hrnnvae.metrics import melody as melody_metrics


def restatement(melodies, spb):
  phrase = np.mean([melody_metrics.phrase_similarity(m, spb) for m in melodies])
  bars = np.mean([melody_metrics.bar_repetition_rate(m, spb) for m in melodies])
  return f"phrase similarity {phrase:.3f}, bar repetition {bars:.3f} ({len(melodies)})"


def main(cache, seed="0"):
  sampler = pretrained.load("nottingham")
  arrays, manifest = cache_lib.load(cache)
  thresholds = judge.thresholds_of(manifest)
  spb = sampler.steps_per_bar
  requested = np.array(scoring.requested_emotions(64))
  melodies = [np.asarray(m.events) for m in sampler.sample(list(requested), 32, int(seed))]
  generated = realism.generated_melodies(melodies, requested)
  pools = {split: realism.real_tunes(arrays, 32, spb, thresholds, split=split)
           for split in ("test", "train")}
  for split, real in pools.items():
    print(f"{split}: {len(real.events)} spans from {len(np.unique(real.groups))} tunes", flush=True)
    for row in realism.what_gives_them_away(generated, real, spb):
      print(f"  {row['block']:>16} {row['accuracy']:.3f} +- {row['std']:.3f}  {row['feature']:>14}"
            f" samples {row['generated_mean']:.3f} real {row['real_mean']:.3f}", flush=True)
  for q, name in enumerate(emotion_lib.EMOTIONS):
    print(f"{name:>6} samples: {restatement([m for m, r in zip(melodies, requested) if r == q], spb)}")
    for split in ("train", "test"):
      chosen = [e for e, label in zip(pools[split].events, pools[split].quadrants) if label == q]
      if chosen:
        print(f"{name:>6} {split:>7}: {restatement(chosen, spb)}")


if __name__ == "__main__":
  main(*sys.argv[1:])
