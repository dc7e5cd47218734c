"""Session (xxvii) screen: the prior samples' attention reach at 32 bars, measured against the
training split's tunes (944 spans of 333 tunes; the validation split's 127 spans disagree with
the test split's on form: BUILD_NOTES.md, (xxvii)).

  PYTHONPATH=. .venv/bin/python docs/results/issue19_session_xxvii/scripts/reach_by_pool.py \
      CACHE SPLIT REACHES SEEDS [MODEL] [BARS]

MODEL: a shipped model's name (default nottingham) or a model folder; BARS: 32 unless given. The shipped Nottingham
model and critic (fitted on reach-8 samples), K 16, T 0.7, top-p 0.95,
64 samples an emotion; launch/sampling_sweep.sweep at each reach (comma-separated bars).
"""
import sys

from hrnnvae import pretrained
from hrnnvae.data import cache as cache_lib
from hrnnvae.sample import Sampler
from launch import sampling_sweep


def main(cache, split, reaches, seeds, model="nottingham", bars="32"):
  sampler = Sampler.load(model) if "/" in model else pretrained.load(model)
  arrays, manifest = cache_lib.load(cache)
  rows = sampling_sweep.sweep(sampler, arrays, manifest, [0.7], [0.95], 64,
                              [int(s) for s in seeds.split(",")], int(bars), split, candidates=(16,),
                              attention_bars=[int(r) for r in reaches.split(",")])
  columns = ("realism", "realism_real_mix", "judge", "judge_worst", "bar_repetition_rate",
             "phrase_similarity", "part_similarity", "part_lift")
  print(f"{'':<30}" + "".join(f"{c[:13]:>14}" for c in columns))
  for name, row in rows.items():
    print(f"{name:<30}" + "".join(f"{row.get(c, float('nan')):>14.3f}" for c in columns))


if __name__ == "__main__":
  main(*sys.argv[1:])
