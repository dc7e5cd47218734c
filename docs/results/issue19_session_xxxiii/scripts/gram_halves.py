"""Session (xxxiii): where real 32-bar tunes restate their figures. For every untransposed
32-bar training span of 16 steps a bar (realism.real_tunes) and for 16 prior samples an emotion
of each model given (seed 0, its own sampling, 32 bars): the 4-gram repetition over the whole
32 bars, its mean over the two 16-bar halves, and the bar repetition over the whole 32 bars.
  PYTHONPATH=. .venv/bin/python docs/results/issue19_session_xxxiii/scripts/gram_halves.py CACHE MODEL...
"""
import sys

import numpy as np

from hrnnvae import judge, pretrained
from hrnnvae.data import cache as cache_lib
from hrnnvae.evaluation import realism, scoring
from hrnnvae.metrics import melody as melody_metrics


def form_figures(melodies, steps_per_bar):
  """(4-gram repetition over all 32 bars, its mean over the 16-bar halves, bar repetition)."""
  half = 16 * steps_per_bar
  whole = np.mean([melody_metrics.ngram_repetition_rate(e, 4) for e in melodies])
  halves = np.mean([np.mean([melody_metrics.ngram_repetition_rate(e[:half], 4),
                             melody_metrics.ngram_repetition_rate(e[half:2 * half], 4)])
                    for e in melodies])
  bars = np.mean([melody_metrics.bar_repetition_rate(e, steps_per_bar) for e in melodies])
  return whole, halves, bars


def main(cache, models):
  arrays, manifest = cache_lib.load(cache)
  thresholds = judge.thresholds_of(manifest)
  real = realism.real_tunes(arrays, 32, 16, thresholds, "train")
  print("melodies | 4-gram repetition, 32 bars | mean of the 16-bar halves | bar repetition")
  print(f"{len(real.events)} training spans | " + " | ".join(
      f"{x:.3f}" for x in form_figures(real.events, 16)), flush=True)
  for model in models:
    sampler = pretrained.load_model(model)
    sampler.use_prior("auto")
    melodies = [m.events for m in sampler.sample(scoring.requested_emotions(16), 32, 0)]
    print(f"{model} | " + " | ".join(
        f"{x:.3f}" for x in form_figures(melodies, sampler.steps_per_bar)), flush=True)


if __name__ == "__main__":
  main(sys.argv[1], sys.argv[2:])
