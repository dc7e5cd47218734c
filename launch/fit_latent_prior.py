"""Fits a model's latent prior to its training latents (hrnnvae/latent_prior.py) and saves it.

  python launch/fit_latent_prior.py --model=runs/nottingham_cpu --cache=runs/nottingham/data
  python launch/fit_latent_prior.py --model=hrnnvae/pretrained/nottingham --components=16 \
      --cache=runs/nottingham_ship/data --chosen_by="..."   # a mixture; the manifest records it

--model is a training run, its export/, or a shipped model's folder; the prior goes into that
model folder as latent_prior.npz, which `hrnnvae-sample` and `hrnnvae-eval` then use
(--prior=fitted, the default when present; --prior=standard keeps N(0, I)). `hrnnvae-train`
fits it itself when training ends; this script is for exports made before that, or a refit.
A flag wrapper over hrnnvae.post_training.fit_latent_prior.
"""

from __future__ import annotations

from absl import app, flags

from hrnnvae import post_training
from hrnnvae.exports import model_dir

_MODEL = flags.DEFINE_string("model", None, "A training run, its export/, or a shipped model.",
                             required=True)
_CACHE = flags.DEFINE_string("cache", None, "The prepared cache the model was trained on.",
                             required=True)
_MAX_WINDOWS = flags.DEFINE_integer("max_windows", 16384, "Training windows encoded, at most.")
_SEED = flags.DEFINE_integer("seed", 0, "Which training windows, when there are more; EM's start.")
_COMPONENTS = flags.DEFINE_integer("components", 1, "1: one Gaussian per emotion; K > 1: a "
                                   "mixture of K diagonal Gaussians per emotion.", lower_bound=1)
_CHOSEN_BY = flags.DEFINE_string("chosen_by", None, "How the prior was chosen, for a shipped "
                                 "model's manifest (its prior_changes record).")


def main(argv):
  del argv
  post_training.fit_latent_prior(model_dir(_MODEL.value), _CACHE.value,
                                 max_windows=_MAX_WINDOWS.value, seed=_SEED.value,
                                 components=_COMPONENTS.value, chosen_by=_CHOSEN_BY.value,
                                 log=lambda message: print(message, flush=True))


if __name__ == "__main__":
  app.run(main)
