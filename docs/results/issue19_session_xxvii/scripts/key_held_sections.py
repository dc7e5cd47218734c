"""Session (xxvii) screen: a B part that keeps the A part's key (Nottingham, 32 bars).

Real tunes move to a B part in the same key (AABB); the shipped model's 32-bar samples restate
their A part (one latent), and a second 16-bar section from a latent of its own (correlation 0)
moved away from it in key and all (BUILD_NOTES.md, Known limits). Here the second section's
latent keeps the first's along the directions of z that carry its pitch classes and register
and is drawn afresh along every other:
  z_B = z_fresh + P (z_A - z_fresh) + lift * u,
P the projection onto the span of a ridge regression's weights from the posterior means of
training windows (z alone) to their 12 pitch-class onset shares and mean pitch, u the
least-norm direction that raises the predicted mean pitch by one semitone (real tunes' B parts
sit about +1 semitone above their A parts).
Rows (validation tunes, 32 bars, the shipped sampling: K 16 with the shipped critic, T 0.7, top-p
0.95, reach 8; seeds 0-2; launch/sampling_sweep.sweep): one latent (shipped), two 16-bar
sections at correlation 0, and the key-held sections at each --lifts.
  PYTHONPATH=. .venv/bin/python docs/results/issue19_session_xxvii/scripts/key_held_sections.py \
      --cache=runs/nott_data --lifts=0,1.5
"""
import json

import numpy as np
from absl import app, flags

from hrnnvae import pretrained
from hrnnvae.data import cache as cache_lib
from hrnnvae.data import events as events_lib
from launch import sampling_sweep

# --cache, --split, --seeds and --json are launch/sampling_sweep.py's flags.
_LIFTS = flags.DEFINE_list("lifts", ["0", "1.5"], "semitones")
_PLAIN_SECTIONS = flags.DEFINE_bool("plain_sections", True, "also the row of two sections at "
                                    "correlation 0")
_TRAIN_REFERENCE = flags.DEFINE_bool("train_reference", False, "measure against the training "
                                     "tunes (the memorizer row left out) instead of --split's")
_WINDOWS = flags.DEFINE_integer("windows", 6000, "training windows the regression reads")


def pitch_features(events, lengths):
  """[N, 13]: each window's onset shares in the 12 pitch classes, and its mean onset pitch."""
  rows = []
  for e, n in zip(events, lengths):
    pitches = e[:n][e[:n] >= events_lib.FIRST_PITCH_EVENT] - events_lib.FIRST_PITCH_EVENT + \
        events_lib.MIN_PITCH
    shares = np.bincount(pitches % 12, minlength=12) / max(len(pitches), 1)
    rows.append(np.append(shares, pitches.mean() if len(pitches) else 60.0))
  return np.array(rows)


def key_directions(sampler, arrays, count, seed=0):
  """(P [Z, Z], u [Z], R^2 of each feature on held-out windows) from training windows."""
  train = np.nonzero(arrays["split"] == 0)[0]
  rows = np.random.default_rng(seed).choice(train, min(count, len(train)), replace=False)
  mus = []
  for start in range(0, len(rows), 256):
    batch = rows[start:start + 256]
    mu, _ = sampler.posterior(arrays["events"][batch], arrays["lengths"][batch],
                              arrays["steps_per_bar"][batch])
    mus.append(mu[:, :sampler.hp.latent_dim])
  z = np.concatenate(mus).astype(np.float64)
  features = pitch_features(arrays["events"][rows], arrays["lengths"][rows])
  fit, held = slice(0, int(0.8 * len(z))), slice(int(0.8 * len(z)), None)
  z_mean, f_mean = z[fit].mean(0), features[fit].mean(0)
  design = z[fit] - z_mean
  weights = np.linalg.solve(design.T @ design + 10.0 * np.eye(z.shape[1]),
                            design.T @ (features[fit] - f_mean))  # [Z, 13]
  predicted = (z[held] - z_mean) @ weights + f_mean
  r2 = 1 - ((features[held] - predicted) ** 2).sum(0) / (
      (features[held] - features[held].mean(0)) ** 2).sum(0)
  basis, _ = np.linalg.qr(weights)
  pitch = weights[:, 12]
  return basis @ basis.T, pitch / (pitch @ pitch), r2


def main(argv):
  del argv
  sampler = pretrained.load("nottingham")
  arrays, manifest = cache_lib.load(sampling_sweep._CACHE.value)
  projection, lift_direction, r2 = key_directions(sampler, arrays, _WINDOWS.value)
  print("held-out R^2, pitch classes C..B: " + " ".join(f"{v:.2f}" for v in r2[:12])
        + f"; mean pitch {r2[12]:.2f}", flush=True)
  plain_prior, dim = sampler.prior, sampler.hp.latent_dim
  seeds = [int(s) for s in sampling_sweep._SEEDS.value or ["0", "1", "2"]]
  split = "train" if _TRAIN_REFERENCE.value else sampling_sweep._SPLIT.value
  rows = sampling_sweep.sweep(sampler, arrays, manifest, [0.7], [0.95], 64, seeds, 32,
                              split, candidates=(16,), attention_bars=(8,),
                              section_bars=(0, 16) if _PLAIN_SECTIONS.value else (0,),
                              section_correlations=(0.0,))
  for lift in [float(v) for v in _LIFTS.value]:
    def held_prior(count, seed, emotions=None, candidate=0, sections=1, correlation=0.0,
                   repeats=1, lift=lift):
      latents = plain_prior(count, seed, emotions, candidate, sections, correlation, repeats)
      if sections > 1:
        first = latents[:, 0, :dim]
        for s in range(1, sections):
          fresh = latents[:, s, :dim]
          latents[:, s, :dim] = fresh + (first - fresh) @ projection + lift * lift_direction
      return latents
    sampler.prior = held_prior
    held = sampling_sweep.sweep(sampler, arrays, manifest, [0.7], [0.95], 64, seeds, 32,
                                split, candidates=(16,), attention_bars=(8,),
                                section_bars=(16,), section_correlations=(0.0,))
    sampler.prior = plain_prior
    rows.update({f"key held, lift {lift:g}": row for name, row in held.items()
                 if "set" not in name and name != sampling_sweep.MEMORIZER_ROW})
  columns = ("realism", "judge", "judge_worst", "bar_repetition", "phrase_similarity",
             "part_similarity", "part_lift", "note_repetition")
  print(f"{'':<30}" + "".join(f"{c[:13]:>14}" for c in columns))
  for name, row in rows.items():
    print(f"{name:<30}" + "".join(f"{row.get(c, float('nan')):>14.3f}" for c in columns))
  if sampling_sweep._JSON.value:
    with open(sampling_sweep._JSON.value, "w") as f:
      json.dump({"r2": r2.tolist(), "rows": rows}, f, indent=1, default=float)


if __name__ == "__main__":
  app.run(main)
