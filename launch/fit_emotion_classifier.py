"""Fits a trained model's emotion classifier E to the judge on the model's own samples.

  python launch/fit_emotion_classifier.py --model=runs/RUN --cache=runs/nottingham/data

hrnnvae/classifier_fit.py says why and how. --model is a training run or its export/; E's new
parameters replace the export's (the VAE's are untouched), and config.json records the fit
("emotion_classifier_fit": the pool, the steps, E's agreement with the judge on held-out samples
before and after). The sampler's own settings (the model's emotion guidance, the fitted prior)
draw the pool, at --temperature (default: the model's own). A flag wrapper over
hrnnvae.post_training.fit_emotion_classifier.
"""

from __future__ import annotations

from absl import app, flags

from hrnnvae import classifier_fit, post_training
from hrnnvae.exports import model_dir

_MODEL = flags.DEFINE_string("model", None, "A training run or its export/.", required=True)
_CACHE = flags.DEFINE_string("cache", None, "The prepared cache the model was trained on.",
                             required=True)
_PER_EMOTION = flags.DEFINE_integer("per_emotion", 1024, "Pool melodies per emotion.")
_BARS = flags.DEFINE_integer("bars", classifier_fit.POOL_BARS, "Bars per pool melody.")
_TEMPERATURE = flags.DEFINE_float("temperature", None, "Sampling temperature of the pool "
                                  "(default: the model's own, config.json's sampling facts).")
_STEPS = flags.DEFINE_integer("steps", 1500, "Training steps of E.")
_SEED = flags.DEFINE_integer("seed", 0, "Pool and batch seed.")


def main(argv):
  del argv
  try:
    post_training.fit_emotion_classifier(
        model_dir(_MODEL.value), _CACHE.value, per_emotion=_PER_EMOTION.value, steps=_STEPS.value,
        temperature=_TEMPERATURE.value, seed=_SEED.value, bars=_BARS.value,
        log=lambda message: print(message, flush=True))
  except post_training.PostTrainingError as error:
    raise app.UsageError(str(error)) from error


if __name__ == "__main__":
  app.run(main)
