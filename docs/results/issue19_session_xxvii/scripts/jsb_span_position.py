"""Session (xxvii) prototype: where in a chorale an 8-bar sample reads as real.

The real side of 8-bar realism is every 8-bar span of the split's chorales (realism.real_tunes:
each cache window's first 8 bars, so spans start at many places in a chorale, not only at its
opening). The shipped JSB model's 8-bar samples are planned as 8 bars. Measured here, on the
same seeds and requests, the feature classifier's realism against those spans of:
  planned 8     the samples asked for 8 bars (the shipped way);
  first 8 of 16 the first 8 bars of samples asked for 16 (the same plan, chosen by the critic
                over 16 bars);
  last 8 of 16  bars 8-15 of those;
and the real openings (spans at start bar 0) against all real spans, a bound on what an
opening alone gives away.
  PYTHONPATH=. .venv/bin/python docs/results/issue19_session_xxvii/scripts/jsb_span_position.py \
      --cache=runs/jsb_data --split=valid
"""
import numpy as np
from absl import app, flags

from hrnnvae import judge, pretrained
from hrnnvae.data import cache as cache_lib
from hrnnvae.evaluation import realism, scoring

_CACHE = flags.DEFINE_string("cache", None, "cache")
_SPLIT = flags.DEFINE_string("split", "valid", "split")
_SEEDS = flags.DEFINE_list("seeds", ["0", "1", "2"], "seeds")
_MODEL = flags.DEFINE_string("model", "jsb_chorales", "a shipped model")


def realism_of(melodies, requested, real, spb, thresholds):
  row = realism.model_rows(realism.generated_melodies(melodies, requested), real, spb,
                           classifiers=("features",))
  agreement = scoring.judged_agreement(melodies, requested, spb, thresholds)
  return scoring.realism_columns(row)["realism"], float(np.mean(agreement))


def main(argv):
  del argv
  sampler = pretrained.load(_MODEL.value)
  arrays, manifest = cache_lib.load(_CACHE.value)
  thresholds = judge.thresholds_of(manifest)
  spb = sampler.steps_per_bar
  real = realism.real_tunes(arrays, 8, spb, thresholds, split=_SPLIT.value)
  rows = realism.split_rows(arrays, _SPLIT.value, spb)
  print(f"{len(real.events)} real 8-bar spans from {len(np.unique(real.groups))} chorales; "
        f"window start bars {np.bincount(arrays['start_bar'][rows]).tolist()}")
  requested = np.array(scoring.requested_emotions(64))
  results = {}
  for seed in [int(s) for s in _SEEDS.value]:
    planned = [np.asarray(m.events) for m in sampler.sample(list(requested), 8, seed)]
    whole = [np.asarray(m.events) for m in sampler.sample(list(requested), 16, seed)]
    for name, melodies in (("planned 8", planned),
                           ("first 8 of 16", [m[:8 * spb] for m in whole]),
                           ("last 8 of 16", [m[8 * spb:16 * spb] for m in whole])):
      r, j = realism_of(melodies, requested, real, spb, thresholds)
      results.setdefault(name, []).append((r, j))
      print(f"seed {seed} {name:>14}: realism {r:.3f} judge {j:.3f}", flush=True)
  for name, values in results.items():
    r, j = np.mean(values, axis=0)
    print(f"mean {name:>14}: realism {r:.3f} judge {j:.3f}")


if __name__ == "__main__":
  app.run(main)
