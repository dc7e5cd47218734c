"""Session (xxiv): why more guidance makes JSB's sad samples less sad to the judge. Samples
asked for sad (16 bars, the shipped sampling, seeds 0-2, 64 a seed) at each sad guidance, and
what the judge makes of them: its quadrant shares, the share it hears in minor, the share over
its arousal line, and the two arousal parts (notes a bar and mean |interval| over the training
medians).
  PYTHONPATH=. .venv/bin/python docs/results/issue19_session_xxiv/scripts/sad_guidance_judged.py CACHE
"""
import sys

import numpy as np

from hrnnvae import judge, pretrained
from hrnnvae.data import cache as cache_lib
from hrnnvae.data import emotion as emotion_lib

SAD = emotion_lib.EMOTIONS.index("sad")


def main(cache_dir: str) -> None:
  _, manifest = cache_lib.load(cache_dir)
  thresholds = judge.thresholds_of(manifest)
  sampler = pretrained.load("jsb_chorales")
  guidance = list(sampler.quadrant_guidance)
  print("guidance  happy  tense   sad  calm  minor  aroused  density/median  interval/median")
  for sad_guidance in (1.25, 1.5, 1.75, 2.0, 2.25):
    guidance[SAD] = sad_guidance
    sampler.steer(quadrant_guidance=guidance)
    melodies = [np.asarray(m.events) for seed in (0, 1, 2)
                for m in sampler.sample([SAD] * 64, 16, seed=seed)]
    features = judge.features(melodies, sampler.steps_per_bar)
    labels = emotion_lib.emotion_labels(features, thresholds)
    density = features.note_density / thresholds.median_note_density
    interval = features.mean_abs_interval / thresholds.median_mean_abs_interval
    shares = np.bincount(labels, minlength=4) / len(labels)
    print(f"{sad_guidance:8.2f}  " + "  ".join(f"{s:5.3f}" for s in shares)
          + f"  {1 - features.is_major.mean():5.3f}  {(density + interval > 2).mean():7.3f}"
          f"  {density.mean():14.3f}  {interval.mean():15.3f}")


if __name__ == "__main__":
  main(sys.argv[1])
