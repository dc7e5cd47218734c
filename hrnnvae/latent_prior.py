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

The windows are those of the meter prior samples are decoded in (`training_rows`): the encoder
reads the meter, so jigs and waltzes have latents of their own, and a prior over every meter
drew 4/4 samples from their region too (issue 19 (iii): the shipped Nottingham model's
validation realism 0.835 with every meter, 0.767 with the 4/4 windows alone).

A mixture (`fit(..., components=K)`, K > 1; `train.latent_prior_components`) fits instead, per
emotion, K diagonal Gaussians to the windows' posterior means by EM, each component's variance
widened by the mean posterior variance of the windows it holds. On the shipped Nottingham model
it was no more real than the Gaussian (16 components over the 4/4 windows: 0.789 against 0.767;
docs/results/issue19_meter_prior/NOTE.md), so it is an option, off by default.

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
MIXTURE_ITERATIONS = 100  # EM's steps for a mixture prior
VARIANCE_FLOOR = 1e-4  # a mixture component's least variance, in units of the data's mean variance
KINDS = ("auto", "fitted", "standard")  # auto: fitted when the model has one


@dataclasses.dataclass(frozen=True)
class LatentPrior:
  means_ExZ: np.ndarray  # per emotion
  scales_ExZxZ: np.ndarray  # lower Cholesky factors of the per-emotion covariances
  counts_E: np.ndarray  # training windows behind each emotion's fit

  @property
  def components(self) -> int:
    return 1

  def sample(self, emotions_B, noise_BxZ: np.ndarray, uniform_B=None) -> np.ndarray:
    """z [B, Z] = mean_e + L_e @ noise for each melody's emotion e (noise ~ N(0, I); uniform_B,
    which picks a mixture's component, is not read)."""
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


@dataclasses.dataclass(frozen=True)
class MixturePrior:
  """Per emotion e, a mixture of K diagonal Gaussians: weights [E, K], means and standard
  deviations [E, K, Z]."""
  weights_ExK: np.ndarray
  means_ExKxZ: np.ndarray
  stds_ExKxZ: np.ndarray
  counts_E: np.ndarray  # training windows behind each emotion's fit (0: the pooled fit)

  @property
  def components(self) -> int:
    return self.weights_ExK.shape[1]

  @property
  def means_ExZ(self) -> np.ndarray:
    """Each emotion's mean, the mixture's (the ends of the transfer's attribute vectors)."""
    return np.einsum("ek,ekz->ez", self.weights_ExK, self.means_ExKxZ)

  def sample(self, emotions_B, noise_BxZ: np.ndarray, uniform_B) -> np.ndarray:
    """z [B, Z]: melody b's component c drawn by uniform_b (~ U[0, 1)) from its emotion's weights
    (the first whose cumulative weight exceeds it), then mean_ec + std_ec * noise_b."""
    emotions_B = np.asarray(emotions_B, np.int64)
    cumulative_BxK = np.cumsum(self.weights_ExK[emotions_B], axis=-1)
    component_B = np.minimum((cumulative_BxK <= np.asarray(uniform_B)[:, None]).sum(-1),
                             self.components - 1)
    z_BxZ = (self.means_ExKxZ[emotions_B, component_B]
             + self.stds_ExKxZ[emotions_B, component_B] * np.asarray(noise_BxZ, np.float64))
    return z_BxZ.astype(np.float32)

  def save(self, folder: str | pathlib.Path) -> pathlib.Path:
    path = pathlib.Path(folder) / FILE
    with open(path, "wb") as f:
      np.savez(f, weights=self.weights_ExK.astype(np.float32),
               means=self.means_ExKxZ.astype(np.float32), stds=self.stds_ExKxZ.astype(np.float32),
               counts=self.counts_E.astype(np.int64))
    return path


def load(folder: str | pathlib.Path, latent_dim: int,
         num_emotions: int) -> LatentPrior | MixturePrior | None:
  """The fitted prior saved in a model folder (a Gaussian, or a mixture when the file holds
  weights); None when it has none; ValueError when the file is unreadable or does not match the
  model (never unpickles: allow_pickle=False)."""
  path = pathlib.Path(folder) / FILE
  if not path.is_file():
    return None
  try:
    with np.load(path, allow_pickle=False) as arrays:
      if "weights" in arrays.files:
        return _checked_mixture(path, *(np.asarray(arrays[k]) for k in
                                        ("weights", "means", "stds", "counts")),
                                latent_dim, num_emotions)
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


def _checked_mixture(path, weights, means, stds, counts, latent_dim: int,
                     num_emotions: int) -> MixturePrior:
  components = weights.shape[-1] if weights.ndim == 2 else -1
  if (weights.shape != (num_emotions, components) or components < 1
      or means.shape != (num_emotions, components, latent_dim) or stds.shape != means.shape
      or counts.shape != (num_emotions,)):
    raise ValueError(f"{path} holds a mixture prior of shape {means.shape}, not the model's "
                     f"({num_emotions}, K, {latent_dim}): refit it with launch/fit_latent_prior.py")
  if not all(np.isfinite(a).all() for a in (weights, means, stds)) or (stds <= 0).any() or (
      weights < 0).any() or not np.allclose(weights.sum(-1), 1.0, atol=1e-4):
    raise ValueError(f"{path} holds non-finite values, non-positive deviations or weights that "
                     "do not sum to 1: refit it with launch/fit_latent_prior.py")
  return MixturePrior(weights.astype(np.float64), means.astype(np.float64),
                      stds.astype(np.float64), counts)


def _gaussian(mu_NxZ: np.ndarray, variance_NxZ: np.ndarray, shrinkage: float):
  mean = mu_NxZ.mean(axis=0)
  centred = mu_NxZ - mean
  covariance = centred.T @ centred / max(len(mu_NxZ) - 1, 1)
  covariance += np.diag(variance_NxZ.mean(axis=0))
  covariance = (1.0 - shrinkage) * covariance + shrinkage * np.diag(np.diag(covariance))
  jitter = 1e-6 * float(np.mean(np.diag(covariance)))
  return mean, np.linalg.cholesky(covariance + jitter * np.eye(len(mean)))


def diagonal_mixture(x_NxZ: np.ndarray, variance_NxZ: np.ndarray, components: int,
                     rng: np.random.Generator, iterations: int = MIXTURE_ITERATIONS):
  """(weights [K], means [K, Z], standard deviations [K, Z]) of K diagonal Gaussians fitted to
  the points x by EM (means started at K distinct points drawn at random), each component's
  variance widened by the responsibility-weighted mean of variance_NxZ (the points' own
  posterior variances) and floored at VARIANCE_FLOOR of the data's mean variance. K is at most
  the number of points; a component that loses every point keeps its last fit."""
  x_NxZ = np.asarray(x_NxZ, np.float64)
  count, dim = x_NxZ.shape
  components = min(components, count)
  means_KxZ = x_NxZ[rng.choice(count, components, replace=False)]
  floor = VARIANCE_FLOOR * float(x_NxZ.var(axis=0).mean()) + 1e-12
  variances_KxZ = np.broadcast_to(np.maximum(x_NxZ.var(axis=0), floor), means_KxZ.shape).copy()
  weights_K = np.full(components, 1.0 / components)
  squares_NxZ = x_NxZ ** 2
  for _ in range(iterations):
    precisions_KxZ = 1.0 / variances_KxZ
    log_density_NxK = -0.5 * (squares_NxZ @ precisions_KxZ.T - 2.0 * x_NxZ @ (means_KxZ * precisions_KxZ).T
                              + (means_KxZ ** 2 * precisions_KxZ).sum(-1)
                              + np.log(variances_KxZ).sum(-1) + dim * np.log(2 * np.pi))
    log_joint_NxK = log_density_NxK + np.log(np.maximum(weights_K, 1e-300))
    log_joint_NxK -= log_joint_NxK.max(axis=1, keepdims=True)
    responsibility_NxK = np.exp(log_joint_NxK)
    responsibility_NxK /= responsibility_NxK.sum(axis=1, keepdims=True)
    held_K = responsibility_NxK.sum(axis=0)
    alive_K1 = (held_K > 1e-8)[:, None]
    safe_K1 = np.maximum(held_K, 1e-8)[:, None]
    weights_K = held_K / count
    means_KxZ = np.where(alive_K1, responsibility_NxK.T @ x_NxZ / safe_K1, means_KxZ)
    variances_KxZ = np.where(alive_K1, np.maximum(
        responsibility_NxK.T @ squares_NxZ / safe_K1 - means_KxZ ** 2, floor), variances_KxZ)
  widened_KxZ = variances_KxZ + np.where(
      alive_K1, responsibility_NxK.T @ np.asarray(variance_NxZ, np.float64) / safe_K1, 0.0)
  return weights_K / weights_K.sum(), means_KxZ, np.sqrt(widened_KxZ)


def fit(mu_NxZ: np.ndarray, log_var_NxZ: np.ndarray | None, emotions_N: np.ndarray,
        num_emotions: int, shrinkage: float = 0.1, min_count: int = 32, components: int = 1,
        seed: int = 0) -> LatentPrior | MixturePrior:
  """Per-emotion Gaussians with the aggregate posterior's moments (module docstring), or with
  components > 1 per-emotion mixtures of that many diagonal Gaussians (diagonal_mixture; seed
  starts EM).

  log_var None (a deterministic latent) counts the posterior variance as 0. An emotion with fewer
  than `min_count` windows takes the fit of all windows together (its count says so: 0)."""
  mu_NxZ = np.asarray(mu_NxZ, np.float64)
  if len(mu_NxZ) < 2 or not np.isfinite(mu_NxZ).all():
    raise ValueError(f"cannot fit a prior to {len(mu_NxZ)} latents (finite: "
                     f"{bool(np.isfinite(mu_NxZ).all())})")
  variance_NxZ = (np.zeros_like(mu_NxZ) if log_var_NxZ is None
                  else np.exp(np.asarray(log_var_NxZ, np.float64)))
  emotions_N = np.asarray(emotions_N)
  if components > 1:
    return _fit_mixture(mu_NxZ, variance_NxZ, emotions_N, num_emotions, min_count, components,
                        np.random.default_rng(seed))
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


def _fit_mixture(mu_NxZ, variance_NxZ, emotions_N, num_emotions: int, min_count: int,
                 components: int, rng: np.random.Generator) -> MixturePrior:
  fits, counts = [], []
  pooled = None
  for emotion in range(num_emotions):
    rows = emotions_N == emotion
    if rows.sum() >= max(min_count, components):
      fits.append(diagonal_mixture(mu_NxZ[rows], variance_NxZ[rows], components, rng))
      counts.append(int(rows.sum()))
    else:
      if pooled is None:
        pooled = diagonal_mixture(mu_NxZ, variance_NxZ, components, rng)
      fits.append(pooled)
      counts.append(0)
  size = max(len(weights) for weights, _, _ in fits)  # fewer points than components: padded
  def padded(values, fill):
    return np.concatenate([values, np.full((size - len(values), *values.shape[1:]), fill)])
  return MixturePrior(np.stack([padded(w, 0.0) for w, _, _ in fits]),
                      np.stack([padded(m, 0.0) for _, m, _ in fits]),
                      np.stack([padded(d, 1.0) for _, _, d in fits]), np.array(counts))


def training_rows(arrays, steps_per_bar: int | None = None) -> np.ndarray:
  """The cache rows the prior describes: the training split as written (transposed copies are
  augmentation for the networks, not the distribution of tunes to sample from), and with
  steps_per_bar only the windows whose bars are that long: the meter prior samples are decoded
  in (Sampler.steps_per_bar). Half of Nottingham's windows are jigs and waltzes (12 steps a
  bar) whose latents lie elsewhere; a prior fitted to all of them drew 4/4 samples from their
  region too (realism 0.835 against 0.767 fitted to the 4/4 windows alone, issue 19)."""
  from hrnnvae.data import sources as sources_lib  # noqa: PLC0415
  train = (arrays["split"] == sources_lib.SPLITS.index("train")) & (arrays["transposition"] == 0)
  if steps_per_bar is not None:
    train &= arrays["steps_per_bar"] == steps_per_bar
  return np.nonzero(train)[0]


def fit_to_split(posterior, arrays, rows: np.ndarray, num_emotions: int, max_windows: int = 16384,
                 batch_size: int = 256, seed: int = 0, log=progress.silent,
                 components: int = 1) -> LatentPrior | MixturePrior:
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
  return fit(np.concatenate(mus), log_var, arrays["emotion"][rows], num_emotions,
             components=components, seed=seed)
