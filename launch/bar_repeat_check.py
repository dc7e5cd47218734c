"""Can a bar-latent model restate a bar? Its encoder and its bar prior, measured on real tunes.

On the first --windows untransposed 4/4 windows of --split that fill the model's bar slots
(the training windows' bars, 16 in the presets):
  posterior means: the mean distance between the latents of two identical bars of one window
    (same events) and of two different bars, beside the latents' norm and posterior sigma: a copy
    can only work if identical bars get (nearly) the same latent;
  with a learned bar prior (model.bar_latent_prior learned or copy_mixture), at the posterior
    means: the KL a bar pays when it restates an earlier bar of its window and when it is new;
    the distance of the prior's (new-bar) mean from the posterior mean; for the copy mixture,
    the share it gives to copying, and the copies' sigma.

  python launch/bar_repeat_check.py --model=runs/i19c/copymix --cache=runs/nottingham_ship/data
"""

from __future__ import annotations

import json

import jax.numpy as jnp
import numpy as np
from absl import app, flags

from hrnnvae.data import cache as cache_lib
from hrnnvae.data import sources
from hrnnvae.exports import model_dir
from hrnnvae.sample import Sampler

_MODEL = flags.DEFINE_string("model", None, "A training run's folder or its export/.")
_CACHE = flags.DEFINE_string("cache", None, "The prepared cache.")
_SPLIT = flags.DEFINE_enum("split", "valid", ["train", "valid", "test"], "Whose windows.")
_WINDOWS = flags.DEFINE_integer("windows", 256, "Windows measured, at most.")
_JSON = flags.DEFINE_string("json", None, "Also write the figures here.")
STEPS_PER_BAR = 16


def restating_bars(bar_events_BxNxS) -> tuple[np.ndarray, list, list]:
  """(restates [B, N]: bar n equals an earlier bar of its window, identical pairs, other pairs)
  with pairs as (window, earlier bar, bar)."""
  windows, bars = bar_events_BxNxS.shape[:2]
  restates, same, different = np.zeros((windows, bars), bool), [], []
  for b in range(windows):
    for n in range(bars):
      for k in range(n):
        if np.array_equal(bar_events_BxNxS[b, k], bar_events_BxNxS[b, n]):
          same.append((b, k, n))
          restates[b, n] = True
        else:
          different.append((b, k, n))
  return restates, same, different


def measure(sampler: Sampler, arrays, split: str, windows: int) -> dict:
  hp, vae, params = sampler.hp, sampler.vae, sampler.params["vae"]
  if not hp.bar_latent_dim:
    raise app.UsageError("the model has no bar latents (model.bar_latent_dim is 0)")
  bars = hp.bar_latent_slots
  steps = bars * STEPS_PER_BAR
  rows = np.flatnonzero((arrays["split"] == sources.SPLITS.index(split))
                        & (arrays["transposition"] == 0)
                        & (arrays["steps_per_bar"] == STEPS_PER_BAR)
                        & (arrays["lengths"] >= steps))[:windows]
  events = arrays["events"][rows, :steps].astype(np.int32)
  lengths, spb = np.full(len(rows), steps), np.full(len(rows), STEPS_PER_BAR)
  emotion = jnp.asarray(arrays["emotion"][rows].astype(np.int32))
  mu, log_var = vae.apply({"params": params}, jnp.asarray(events), jnp.asarray(lengths),
                          jnp.asarray(spb), method="encode")
  z, bars_mu = hp.split_latents(mu)
  bars_log_var = hp.split_latents(log_var)[1]
  bars_mu_np = np.asarray(bars_mu)
  restates, same, different = restating_bars(events.reshape(len(rows), bars, STEPS_PER_BAR))

  def distance(pairs):
    return float(np.mean([np.linalg.norm(bars_mu_np[b, k] - bars_mu_np[b, n]) for b, k, n in pairs]))
  figures = {"windows": len(rows), "identical_pairs": len(same),
             "identical_distance": distance(same), "different_distance": distance(different),
             "latent_norm": float(np.linalg.norm(bars_mu_np, axis=-1).mean()),
             "posterior_sigma": float(np.exp(0.5 * np.asarray(bars_log_var)).mean())}
  if not hp.learned_bar_prior:
    return figures

  def run(method):
    return vae.apply({"params": params}, z, emotion, bars_mu, method=method)
  prior = run(lambda m, z, e, b: m.bar_prior(z, m.emotion_embed(e), b))
  kl = np.asarray(run(lambda m, z, e, b: m.bar_prior.kl(z, m.emotion_embed(e), b, b,
                                                         bars_log_var)))
  new = ~restates
  new[:, 0] = False
  error = np.linalg.norm(np.asarray(prior["mu"]) - bars_mu_np, axis=-1)
  figures.update({"kl_restating": float(kl[restates].mean()), "kl_new": float(kl[new].mean()),
                  "prior_distance_restating": float(error[restates].mean()),
                  "prior_distance_new": float(error[new].mean())})
  if "log_weights" in prior:
    copy = 1.0 - np.exp(np.asarray(prior["log_weights"])[..., 0])
    figures.update({"copy_share_restating": float(copy[restates].mean()),
                    "copy_share_new": float(copy[new].mean()),
                    "copy_sigma": float(np.exp(0.5 * np.asarray(prior["copy_log_var"])).mean())})
  return figures


def main(argv):
  del argv
  sampler = Sampler.load(model_dir(_MODEL.value))
  arrays, _ = cache_lib.load(_CACHE.value)
  figures = measure(sampler, arrays, _SPLIT.value, _WINDOWS.value)
  for name, value in figures.items():
    print(f"{name:<26} {value:.3f}" if isinstance(value, float) else f"{name:<26} {value}")
  if _JSON.value:
    with open(_JSON.value, "w") as f:
      json.dump({"model": _MODEL.value, "split": _SPLIT.value, **figures}, f, indent=1)


if __name__ == "__main__":
  flags.mark_flags_as_required(["model", "cache"])
  app.run(main)
