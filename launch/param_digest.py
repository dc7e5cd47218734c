"""Digests of the parameters a fixed config trains to: the check that a refactor changes no numbers.

  python launch/param_digest.py CACHE OUT.json      # CACHE: e.g. 40 Nottingham tunes prepared
  (cd OLD_CHECKOUT && PYTHONPATH=. python NEW/launch/param_digest.py CACHE old.json)

Trains configs/tiny.py under seven settings (the default, the paper's emotion term, one phase,
lstm_lm, a fine-tune phase from step 6 with its own clip, continuous without the critic,
musicvae_like) for 12 steps each, with the latent-prior fit, and writes per setting a sha256 of
every VAE, E and critic parameter, the best validation loss and a sha256 of the fitted prior.
Two checkouts that write the same file train bit-equal models.
"""

import hashlib
import json
import pathlib
import runpy
import sys
import tempfile

import jax
import numpy as np

SETTINGS = [("", {}), ("classifier_emotion", {}), ("no_finetune", {}), ("lstm_lm", {}),
            ("", {"loss.aux_start_step": 6, "loss.aux_grad_clip_norm": 0.1}),
            ("continuous,no_adversarial", {}), ("musicvae_like", {})]


def digest(cache_dir: str, variant: str, overrides: dict) -> dict:
  from hrnnvae.train import train  # noqa: PLC0415 - the checkout on sys.path decides which
  config = runpy.run_path(str(pathlib.Path("configs") / "tiny.py"))["get_config"](variant or None)
  config.data.cache_dir = cache_dir
  config.train.max_steps = 12
  config.train.fit_latent_prior = True
  for path, value in overrides.items():
    section, field = path.split(".")
    config[section][field] = value
  with tempfile.TemporaryDirectory() as workdir:
    summary = train.train_and_evaluate(config, workdir)
    state = summary["state"]
    params = hashlib.sha256()
    for leaf in jax.tree.leaves(jax.device_get((state.vae_params, state.emotion_params,
                                                state.critic_params))):
      params.update(np.asarray(leaf).tobytes())
    prior = pathlib.Path(workdir, "export", "latent_prior.npz")
    return {"params": params.hexdigest()[:16], "best": summary["best_valid_loss"],
            "prior_file": hashlib.sha256(prior.read_bytes()).hexdigest()[:16]
            if prior.exists() else None}


def main(cache_dir: str, out: str) -> None:
  results = {}
  for variant, overrides in SETTINGS:
    key = variant + json.dumps(overrides)
    results[key] = digest(cache_dir, variant, overrides)
    print(key, results[key], flush=True)
  pathlib.Path(out).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
  main(*sys.argv[1:])
