"""A prior fitted to the aggregate posterior: one Gaussian per emotion over the training latents.

Why: free bits let the encoder spend its KL budget freely, and N(0, I) then puts mass where no
training melody's posterior lies (a "prior hole"): a decoder that reconstructs well can still
sample poorly from N(0, I). Fitting a density to the latents of the training melodies after
training ("ex-post density estimation", Ghosh et al. 2020, "From variational to deterministic
autoencoders") samples where the decoder has learned to decode, without retraining.

For each emotion e, q_e(z) is the average over the training windows labelled e of their posteriors
N(mu_i, diag sigma_i^2). Its mean is mean(mu_i) and its covariance cov(mu_i) + mean(diag sigma_i^2);
the fitted prior is the Gaussian with those moments, the covariance shrunk towards its diagonal
(`shrinkage`) so the rare quadrants, with a few hundred windows, stay well conditioned. It is
conditioned on the emotion because the data's emotion is a property of the notes (mode, density):
a z drawn from the happy windows' region agrees with a request for "happy".

It is saved beside the exported parameters as `latent_prior.npz` (plain arrays, read without
pickle) and used by `Sampler.prior` when present (`--prior=fitted`; `--prior=standard` is
N(0, I)).
"""

from __future__ import annotations

import dataclasses
import pathlib

import numpy as np

from hrnnvae import progress

FILE = "latent_prior.npz"
KINDS = ("auto", "fitted", "standard")  # auto: fitted when the model has one


@dataclasses.dataclass(frozen=True)
class LatentPrior:
  means_ExZ: np.ndarray  # per emotion
  scales_ExZxZ: np.ndarray  # lower Cholesky factors of the per-emotion covariances
  counts_E: np.ndarray  # training windows behind each emotion's fit

  def sample(self, emotions_B, noise_BxZ: np.ndarray) -> np.ndarray:
    """z [B, Z] = mean_e + L_e @ noise for each melody's emotion e (noise ~ N(0, I))."""
    emotions_B = np.asarray(emotions_B, np.int64)
    noise_BxZ = np.asarray(noise_BxZ, np.float64)
    z_BxZ = self.means_ExZ[emotions_B] + np.einsum("bij,bj->bi", self.scales_ExZxZ[emotions_B],
                                                   noise_BxZ)
    return z_BxZ.astype(np.float32)

  def save(self, folder: str | pathlib.Path) -> pathlib.Path:
    path = pathlib.Path(folder) / FILE
    with open(path, "wb") as f:
      np.savez(f, means=self.means_ExZ.astype(np.float32),
               scales=self.scales_ExZxZ.astype(np.float32), counts=self.counts_E.astype(np.int64))
    return path


def load(folder: str | pathlib.Path, latent_dim: int, num_emotions: int) -> LatentPrior | None:
  """The fitted prior saved in a model folder; None when it has none; ValueError when the file
  is unreadable or does not match the model (never unpickles: allow_pickle=False)."""
  path = pathlib.Path(folder) / FILE
  if not path.is_file():
    return None
  try:
    with np.load(path, allow_pickle=False) as arrays:
      means, scales, counts = (np.asarray(arrays[k]) for k in ("means", "scales", "counts"))
  except (OSError, KeyError, ValueError) as error:
    raise ValueError(f"{path} is not a readable latent prior ({error})") from error
  if (means.shape != (num_emotions, latent_dim)
      or scales.shape != (num_emotions, latent_dim, latent_dim) or counts.shape != (num_emotions,)):
    raise ValueError(f"{path} holds a prior of shape {means.shape}, not the model's "
                     f"({num_emotions}, {latent_dim}): refit it with launch/fit_latent_prior.py")
  if not (np.isfinite(means).all() and np.isfinite(scales).all()):
    raise ValueError(f"{path} holds non-finite values: refit it with launch/fit_latent_prior.py")
  return LatentPrior(means.astype(np.float64), scales.astype(np.float64), counts)


def _gaussian(mu_NxZ: np.ndarray, variance_NxZ: np.ndarray, shrinkage: float):
  mean = mu_NxZ.mean(axis=0)
  centred = mu_NxZ - mean
  covariance = centred.T @ centred / max(len(mu_NxZ) - 1, 1)
  covariance += np.diag(variance_NxZ.mean(axis=0))
  covariance = (1.0 - shrinkage) * covariance + shrinkage * np.diag(np.diag(covariance))
  jitter = 1e-6 * float(np.mean(np.diag(covariance)))
  return mean, np.linalg.cholesky(covariance + jitter * np.eye(len(mean)))


def fit(mu_NxZ: np.ndarray, log_var_NxZ: np.ndarray | None, emotions_N: np.ndarray,
        num_emotions: int, shrinkage: float = 0.1, min_count: int = 32) -> LatentPrior:
  """Per-emotion Gaussians with the aggregate posterior's moments (module docstring).

  log_var None (a deterministic latent) counts the posterior variance as 0. An emotion with fewer
  than `min_count` windows takes the fit of all windows together (its count says so: 0)."""
  mu_NxZ = np.asarray(mu_NxZ, np.float64)
  if len(mu_NxZ) < 2 or not np.isfinite(mu_NxZ).all():
    raise ValueError(f"cannot fit a prior to {len(mu_NxZ)} latents (finite: "
                     f"{bool(np.isfinite(mu_NxZ).all())})")
  variance_NxZ = (np.zeros_like(mu_NxZ) if log_var_NxZ is None
                  else np.exp(np.asarray(log_var_NxZ, np.float64)))
  emotions_N = np.asarray(emotions_N)
  pooled = _gaussian(mu_NxZ, variance_NxZ, shrinkage)
  means, scales, counts = [], [], []
  for emotion in range(num_emotions):
    rows = emotions_N == emotion
    enough = rows.sum() >= min_count
    mean, scale = _gaussian(mu_NxZ[rows], variance_NxZ[rows], shrinkage) if enough else pooled
    counts.append(int(rows.sum()) if enough else 0)
    means.append(mean)
    scales.append(scale)
  return LatentPrior(np.stack(means), np.stack(scales), np.array(counts))


def training_rows(arrays) -> np.ndarray:
  """The cache rows the prior describes: the training split as written (transposed copies are
  augmentation for the networks, not the distribution of tunes to sample from)."""
  from hrnnvae.data import sources as sources_lib  # noqa: PLC0415
  train = arrays["split"] == sources_lib.SPLITS.index("train")
  return np.nonzero(train & (arrays["transposition"] == 0))[0]


def fit_to_split(posterior, arrays, rows: np.ndarray, num_emotions: int, max_windows: int = 16384,
                 batch_size: int = 256, seed: int = 0, log=progress.silent) -> LatentPrior:
  """Fits the prior to the latents of a cache's `rows` (training_rows), at most
  `max_windows` of them drawn at random (seed). posterior(events, lengths, steps_per_bar) ->
  (mu, log_var or None) encodes a batch (Sampler.posterior)."""
  rows = np.asarray(rows)
  if len(rows) > max_windows:
    rows = np.sort(np.random.default_rng(seed).choice(rows, max_windows, replace=False))
  mus, log_vars = [], []
  heartbeat = progress.Heartbeat("latent prior: encoded", len(rows), "training windows", log)
  for start in range(0, len(rows), batch_size):
    chunk = rows[start:start + batch_size]
    mu, log_var = posterior(arrays["events"][chunk], arrays["lengths"][chunk],
                            arrays["steps_per_bar"][chunk])
    mus.append(np.asarray(mu))
    log_vars.append(None if log_var is None else np.asarray(log_var))
    heartbeat(start + len(chunk))
  log_var = None if log_vars[0] is None else np.concatenate(log_vars)
  return fit(np.concatenate(mus), log_var, arrays["emotion"][rows], num_emotions)
