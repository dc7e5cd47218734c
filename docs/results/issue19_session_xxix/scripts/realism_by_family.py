"""Session (xxix): which real tunes the feature classifier tells from a model's samples, by the
Nottingham tune family (the file name's prefix: reels, hornpipes, ashover, morris, ...), and how
many of each family each split holds.

  PYTHONPATH=. .venv/bin/python docs/results/issue19_session_xxix/scripts/realism_by_family.py \
      CACHE MODEL BARS SEEDS PER_EMOTION

For each seed: PER_EMOTION prior samples an emotion at the model's own sampling against all the
training split's spans, and separately against the test split's, cross-validated by tune
(realism.group_folds, balanced folds as realism.compare does); each held-out real span's
verdict (called real or not) is kept. Prints, per family and split: spans, tunes, the share of
its spans called real (1 - the classifier's accuracy on them is what a sample "passes" against).
"""
import re
import sys

import numpy as np

from hrnnvae import judge, pretrained
from hrnnvae.data import cache as cache_lib
from hrnnvae.evaluation import realism, scoring
from hrnnvae.sample import Sampler


def family(name):
  name = re.sub(r"\d.*", "", str(name))
  return "reels" if name.startswith("reels") else name


def real_verdicts(generated, real, spb, seed):
  """[len(real)] 1 where a held-out real span is called real, NaN where it sat out (balancing)."""
  rng = np.random.default_rng(seed)
  classes = np.repeat([1, 0], [len(generated.events), len(real.events)])
  features = realism.melody_features(np.concatenate([generated.events, real.events]), spb)
  fold = realism.group_folds(np.concatenate([generated.groups, real.groups]), classes,
                             realism.FOLDS, seed)
  verdict = np.full(len(real.events), np.nan)
  accuracy = []
  for k in range(realism.FOLDS):
    train = realism._balanced(np.nonzero(fold != k)[0], classes, rng)
    test = realism._balanced(np.nonzero(fold == k)[0], classes, rng)
    predicted = realism.logistic_regression(features[train], classes[train], features[test])
    accuracy.append(float((predicted == classes[test]).mean()))
    real_rows = test[classes[test] == 0]
    verdict[real_rows - len(generated.events)] = (predicted[classes[test] == 0] == 0)
  return verdict, float(np.mean(accuracy))


def setup(cache, model, bars, per_emotion):
  """(the cache's arrays, the judge's thresholds, the model's sampler, its steps a bar, bars,
  the requested emotions: per_emotion an emotion)."""
  arrays, manifest = cache_lib.load(cache)
  sampler = Sampler.load(model) if "/" in model else pretrained.load(model)
  return (arrays, judge.thresholds_of(manifest), sampler, sampler.steps_per_bar, int(bars),
          scoring.requested_emotions(int(per_emotion)))


def main(cache, model, bars, seeds, per_emotion):
  arrays, thresholds, sampler, spb, bars, requested = setup(cache, model, bars, per_emotion)
  names = arrays["piece_names"]
  pools = {split: realism.real_tunes(arrays, bars, spb, thresholds, split=split)
           for split in ("train", "test")}
  verdicts = {split: [] for split in pools}
  for seed in (int(s) for s in seeds.split(",")):
    melodies = [np.asarray(m.events) for m in sampler.sample(requested, bars, seed)]
    generated = realism.generated_melodies(melodies, requested)
    for split, real in pools.items():
      for repeat in range(realism.REPEATS):
        verdict, accuracy = real_verdicts(generated, real, spb, repeat)
        verdicts[split].append(verdict)
      print(f"seed {seed} {split}: accuracy (last repeat) {accuracy:.3f}", flush=True)
  for split, real in pools.items():
    called_real = np.nanmean(np.stack(verdicts[split]), axis=0)  # [spans]
    families = np.array([family(names[p]) for p in real.groups])
    print(f"{split}: {len(real.events)} spans of {len(np.unique(real.groups))} tunes; "
          f"called real {np.nanmean(called_real):.3f}")
    for name in sorted(set(families), key=lambda f: -np.sum(families == f)):
      mine = families == name
      print(f"  {name:10s} spans {mine.sum():4d} ({mine.mean():.2f}) tunes "
            f"{len(np.unique(real.groups[mine])):3d}  called real {np.nanmean(called_real[mine]):.3f}")


if __name__ == "__main__":
  main(*sys.argv[1:])
