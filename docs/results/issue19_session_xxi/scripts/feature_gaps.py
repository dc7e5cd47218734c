"""Session (xxi): which of the realism classifier's features set the shipped JSB model's samples
apart from real chorale spans: each feature's mean on each side and the standardized difference
(Cohen's d), the largest first; and the per-quadrant realism beside it.
  PYTHONPATH=. .venv/bin/python docs/results/issue19_session_xxi/scripts/feature_gaps.py \
      --cache=runs/jsb_data --split=valid --bars=8
"""
import numpy as np
from absl import app, flags

from hrnnvae import judge, pretrained
from hrnnvae.data import cache as cache_lib
from hrnnvae.evaluation import realism, scoring

_CACHE = flags.DEFINE_string("cache", None, "cache")
_SPLIT = flags.DEFINE_string("split", "valid", "split")
_BARS = flags.DEFINE_integer("bars", 8, "bars")
_SEEDS = flags.DEFINE_list("seeds", ["0", "1", "2"], "seeds")
_MODEL = flags.DEFINE_string("model", "jsb_chorales", "shipped model")


def main(argv):
  del argv
  sampler = pretrained.load(_MODEL.value)
  arrays, manifest = cache_lib.load(_CACHE.value)
  thresholds = judge.thresholds_of(manifest)
  spb = sampler.steps_per_bar
  real = realism.real_tunes(arrays, _BARS.value, spb, thresholds, split=_SPLIT.value)
  requested = np.array(scoring.requested_emotions(64))
  melodies = []
  for seed in [int(s) for s in _SEEDS.value]:
    melodies += [np.asarray(m.events) for m in sampler.sample(list(requested), _BARS.value, seed)]
  names = realism.feature_names(spb)
  fake = realism.melody_features(np.stack(melodies), spb)
  true = realism.melody_features(real.events, spb)
  pooled = np.sqrt((fake.var(0) + true.var(0)) / 2) + 1e-9
  d = (fake.mean(0) - true.mean(0)) / pooled
  print(f"{len(melodies)} samples against {len(true)} {_SPLIT.value} spans of {_BARS.value} bars")
  for i in np.argsort(-np.abs(d))[:25]:
    print(f"{names[i]:<32} samples {fake[:, i].mean():8.4f}  real {true[:, i].mean():8.4f}  d {d[i]:+.2f}")


if __name__ == "__main__":
  app.run(main)
