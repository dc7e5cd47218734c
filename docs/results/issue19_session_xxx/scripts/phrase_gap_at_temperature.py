"""Session (xxx): is there a phrase-similarity gap for the realism term to close where the
fine-tune samples (T 1, every event, z from the prior), or only at the shipped sampling (T 0.7,
top-p 0.95, K 16)? The shipped Nottingham model's prior samples of 16 and 32 bars against the
training split's spans of the same length (metrics/melody.phrase_similarity, melody means).

  PYTHONPATH=. .venv/bin/python docs/results/issue19_session_xxx/scripts/phrase_gap_at_temperature.py CACHE
"""
import sys

import numpy as np

from hrnnvae import judge, pretrained
from hrnnvae.data import cache as cache_lib
from hrnnvae.evaluation import realism, scoring
from hrnnvae.metrics import melody as melody_metrics


def main(cache):
  arrays, manifest = cache_lib.load(cache)
  thresholds = judge.thresholds_of(manifest)
  shipped = pretrained.load("nottingham")
  spb = shipped.steps_per_bar
  requested = scoring.requested_emotions(64)
  for bars in (16, 32):
    real = realism.real_tunes(arrays, bars, spb, thresholds, split="train")
    real_similarity = np.mean([melody_metrics.phrase_similarity(e, spb) for e in real.events])
    print(f"{bars} bars: training spans {real_similarity:.3f} ({len(real.events)} spans)")
    for name, reach, settings in (
        ("T 1, top-p 1, K 1, r 1, reach 4 (as the fine-tune's samples)", 0,
         dict(temperature=1.0, top_p=1.0, candidates=1, repeat_penalty=1.0)),
        ("T 1, top-p 1, K 1, r 1, reach 8", 8,
         dict(temperature=1.0, top_p=1.0, candidates=1, repeat_penalty=1.0)),
        ("T 0.7, top-p 0.95, K 1, r 1.5, reach 8", 8, dict(candidates=1)),
        ("shipped (T 0.7, top-p 0.95, K 16, r 1.5, reach 8)", 8, {})):
      shipped.attention_bars = reach
      values = []
      for seed in (0, 1):
        melodies = shipped.sample(requested, bars, seed, **settings)
        values += [melody_metrics.phrase_similarity(np.asarray(m.events), spb) for m in melodies]
      print(f"  {name}: {np.mean(values):.3f}", flush=True)


if __name__ == "__main__":
  main(*sys.argv[1:])
