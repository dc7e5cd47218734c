"""Session (xxvii): where the shipped Nottingham model's 32-bar samples restate too much: phrase
similarity (metrics/melody.phrase_similarity, 4-bar phrases) and bar repetition per requested
quadrant, beside the training and test tunes per judged quadrant.

  PYTHONPATH=. .venv/bin/python docs/results/issue19_session_xxvii/scripts/phrase_similarity_by_quadrant.py \
      runs/nott_data [SEED]
"""
import sys

import numpy as np

from hrnnvae import judge, pretrained
from hrnnvae.data import cache as cache_lib
from hrnnvae.data import emotion as emotion_lib
from hrnnvae.evaluation import realism, scoring
from hrnnvae.metrics import melody as melody_metrics


def row(melodies, spb):
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
  pools = {split: realism.real_tunes(arrays, 32, spb, thresholds, split=split)
           for split in ("train", "test")}
  for q, name in enumerate(emotion_lib.EMOTIONS):
    print(f"{name:>6} samples: {row([m for m, r in zip(melodies, requested) if r == q], spb)}")
    for split, real in pools.items():
      chosen = [e for e, label in zip(real.events, real.quadrants) if label == q]
      if chosen:
        print(f"{name:>6} {split:>7}: {row(chosen, spb)}")


if __name__ == "__main__":
  main(*sys.argv[1:])
