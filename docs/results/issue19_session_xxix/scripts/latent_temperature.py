"""Session (xxix): a latent temperature (MusicVAE's z temperature), never tried here: the fitted
prior's noise scaled by TAU before it goes through each emotion's Gaussian (z = mean + L @ (TAU
noise)), the decoder at the model's own sampling.

  PYTHONPATH=. .venv/bin/python docs/results/issue19_session_xxix/scripts/latent_temperature.py \
      CACHE MODEL BARS SEEDS PER_EMOTION DRAWS TAU [TAU ...]

For each TAU and seed: the feature classifier against twenty (DRAWS) draws of whole training
tunes the test split's size (draws_by_family.accuracy, realism.compare's folds), the judge's
macro agreement with the requested quadrants, the samples' mean range (octaves) and phrase
similarity. The test split is not read (a screen chosen on the training tunes).
"""
import sys

import numpy as np

from hrnnvae import judge
from hrnnvae.evaluation import realism

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from draws_by_family import accuracy  # noqa: E402
from realism_by_family import setup  # noqa: E402


class ScaledPrior:
  """A fitted prior whose noise is scaled by tau."""

  def __init__(self, prior, tau):
    self.prior, self.tau = prior, tau

  def __getattr__(self, name):
    return getattr(self.prior, name)

  def sample(self, emotions_B, noise_BxZ, uniform_B=None):
    return self.prior.sample(emotions_B, self.tau * np.asarray(noise_BxZ), uniform_B)


def main(cache, model, bars, seeds, per_emotion, draws, *taus):
  arrays, thresholds, sampler, spb, bars, requested = setup(cache, model, bars, per_emotion)
  train = realism.real_tunes(arrays, bars, spb, thresholds, split="train")
  test_size = len(realism.real_tunes(arrays, bars, spb, thresholds, split="test").events)
  train_features = realism.melody_features(train.events, spb)
  names = realism.feature_names(spb)
  fitted = sampler.latent_prior
  for tau in map(float, taus):
    sampler.latent_prior = ScaledPrior(fitted, tau)
    table = []
    for seed in (int(s) for s in seeds.split(",")):
      melodies = [np.asarray(m.events) for m in sampler.sample(requested, bars, seed)]
      generated = realism.generated_melodies(melodies, requested)
      features = realism.melody_features(generated.events, spb)
      values = []
      for rows in realism._draw_rows(train, test_size, int(draws), seed):
        values.append(accuracy(features, train_features[rows], generated, train.subset(rows), spb))
      labels = judge.labels(melodies, spb, thresholds)
      agreement = [float((labels[np.asarray(requested) == q] == q).mean()) for q in range(4)]
      row = (np.mean(values), np.mean(agreement), min(agreement),
             features[:, names.index("register/range")].mean(),
             features[:, names.index("repetition/phrase similarity")].mean())
      table.append(row)
      print(f"tau {tau} seed {seed}: draws {row[0]:.3f}; judge {row[1]:.3f} (worst {row[2]:.3f}); "
            f"range {row[3]:.3f}; phrase similarity {row[4]:.3f}", flush=True)
    mean = np.mean(table, axis=0)
    print(f"tau {tau} mean over seeds {seeds}: draws {mean[0]:.3f}; judge {mean[1]:.3f} (worst "
          f"{mean[2]:.3f}); range {mean[3]:.3f}; phrase similarity {mean[4]:.3f}", flush=True)


if __name__ == "__main__":
  main(*sys.argv[1:])
