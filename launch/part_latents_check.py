"""How much a tune's second part shares its first part's latent (issue 19: the 32-bar B part).

A prior sample written in sections (`sample.section_bars`) draws section s's prior noise as c times
section s-1's plus sqrt(1 - c^2) times its own. A section prior fitted to real tunes would set c
(per latent dimension) and a mean shift from consecutive spans of the training tunes. This check
measures what such a fit would find before one is built: for every pair of consecutive,
full-length training windows of a tune (start bars b and b + W, W the windows' bars, in the meter
prior samples are decoded in), it encodes both (posterior mean), moves each into the fitted
prior's noise coordinates (L_e^-1 (mu - m_e), e the window's quadrant), and prints

- the variance of those coordinates (the share of the prior's variance the means hold; the rest
  is posterior variance),
- the per-dimension covariance of the two parts' coordinates: the correlation c a fitted section
  prior would give their noises, which have unit variance,
- the norm of the mean shift from the first part to the second,
- the real pairs' part lift (metrics.melody.part_lift: the second part's mean pitch over the
  first's) and how often both parts carry the same quadrant.

  python launch/part_latents_check.py --model=nottingham --cache=runs/nottingham_ship/data
"""

from __future__ import annotations

import json

import numpy as np
from absl import app, flags

from hrnnvae import latent_prior as latent_prior_lib
from hrnnvae import pretrained
from hrnnvae.data import cache as cache_lib
from hrnnvae.metrics import melody

_MODEL = flags.DEFINE_string("model", "nottingham", "A shipped model's name or a training run's folder.")
_CACHE = flags.DEFINE_string("cache", None, "The prepared cache whose training windows are read.")
_JSON = flags.DEFINE_string("json", None, "Also write the figures here.")
BATCH = 256


def consecutive_pairs(arrays, rows: np.ndarray) -> np.ndarray:
  """[P, 2] rows (first part, second part): full-length windows of one tune and segment whose
  start bars are W apart, W the longest window's bars."""
  window_steps = int(arrays["lengths"][rows].max())
  window_bars = window_steps // int(arrays["steps_per_bar"][rows[0]])
  full = [r for r in rows if arrays["lengths"][r] == window_steps]
  where = {tuple(int(arrays[k][r]) for k in ("piece", "segment", "start_bar")): r for r in full}
  return np.array([(row, where[(piece, segment, start + window_bars)])
                   for (piece, segment, start), row in where.items()
                   if (piece, segment, start + window_bars) in where], np.int64).reshape(-1, 2)


def prior_coordinates(prior, mu_NxZ: np.ndarray, emotions_N: np.ndarray) -> np.ndarray:
  """L_e^-1 (mu - m_e) for each latent's emotion e: the noise the fitted Gaussian maps to mu."""
  coordinates = np.zeros(mu_NxZ.shape, np.float64)
  for emotion in np.unique(emotions_N):
    chosen = emotions_N == emotion
    centred = np.asarray(mu_NxZ[chosen], np.float64) - prior.means_ExZ[emotion]
    coordinates[chosen] = np.linalg.solve(prior.scales_ExZxZ[emotion], centred.T).T
  return coordinates


def main(argv):
  del argv
  arrays, _ = cache_lib.load(_CACHE.value)
  sampler = pretrained.load_model(_MODEL.value)
  if not isinstance(sampler.latent_prior, latent_prior_lib.LatentPrior):
    raise SystemExit("part_latents_check.py reads a model with a fitted Gaussian latent prior")
  rows = latent_prior_lib.training_rows(arrays, sampler.steps_per_bar)
  pairs = consecutive_pairs(arrays, rows)
  parts = []
  for column in (0, 1):
    part_rows = pairs[:, column]
    mus = [sampler.posterior(arrays["events"][chunk], arrays["lengths"][chunk],
                             arrays["steps_per_bar"][chunk])[0]
           for chunk in np.array_split(part_rows, max(1, -(-len(part_rows) // BATCH)))]
    parts.append(prior_coordinates(sampler.latent_prior, np.concatenate(mus),
                                   arrays["emotion"][part_rows]))
  first, second = parts
  covariance = ((first - first.mean(0)) * (second - second.mean(0))).mean(0)
  lifts = [melody.part_lift(np.concatenate([arrays["events"][a, :arrays["lengths"][a]],
                                            arrays["events"][b, :arrays["lengths"][b]]]),
                            sampler.steps_per_bar, int(arrays["lengths"][a]) // sampler.steps_per_bar)
           for a, b in pairs]
  figures = {
      "pairs": len(pairs),
      "coordinate_variance": [float(first.var(0).mean()), float(second.var(0).mean())],
      "part_covariance_mean": float(covariance.mean()),
      "part_covariance_quantiles_5_25_50_75_95": np.quantile(covariance, [.05, .25, .5, .75, .95]).tolist(),
      "mean_shift_norm": float(np.linalg.norm(second.mean(0) - first.mean(0))),
      "real_part_lift": float(np.nanmean(lifts)),
      "same_quadrant": float((arrays["emotion"][pairs[:, 0]] == arrays["emotion"][pairs[:, 1]]).mean()),
  }
  print(json.dumps(figures, indent=1))
  if _JSON.value:
    with open(_JSON.value, "w") as f:
      json.dump(figures, f, indent=1)


if __name__ == "__main__":
  flags.mark_flag_as_required("cache")
  app.run(main)
