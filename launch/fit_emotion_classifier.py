"""Fits a trained model's emotion classifier E to the judge on the model's own samples.

  python launch/fit_emotion_classifier.py --model=runs/RUN --cache=runs/nottingham/data

hrnnvae/classifier_fit.py says why and how. --model is a training run or its export/; E's new
parameters replace the export's (the VAE's are untouched), and config.json records the fit
("emotion_classifier_fit": the pool, the steps, E's agreement with the judge on held-out samples
before and after). The sampler's own settings (the model's emotion guidance, the fitted prior)
draw the pool, at --temperature.
"""

from __future__ import annotations

from absl import app, flags, logging

from hrnnvae import classifier_fit, exports
from hrnnvae.data import cache as cache_lib
from hrnnvae.data import emotion as emotion_lib
from hrnnvae.exports import model_dir
from hrnnvae.sample import Sampler

_MODEL = flags.DEFINE_string("model", None, "A training run or its export/.", required=True)
_CACHE = flags.DEFINE_string("cache", None, "The prepared cache the model was trained on.",
                             required=True)
_PER_EMOTION = flags.DEFINE_integer("per_emotion", 1024, "Pool melodies per emotion.")
_BARS = flags.DEFINE_integer("bars", 16, "Bars per pool melody.")
_TEMPERATURE = flags.DEFINE_float("temperature", 0.5, "Sampling temperature of the pool.")
_STEPS = flags.DEFINE_integer("steps", 1500, "Training steps of E.")
_SEED = flags.DEFINE_integer("seed", 0, "Pool and batch seed.")


def main(argv):
  del argv
  folder = model_dir(_MODEL.value)
  if not (folder / "params").is_dir():
    raise app.UsageError(f"{folder} is not a training run's export/ (a shipped model is refit "
                         "from the run it came from, then shipped again)")
  sampler = Sampler.load(folder)
  arrays, manifest = cache_lib.load(_CACHE.value)
  thresholds = emotion_lib.ArousalThresholds(**manifest["arousal_thresholds"])
  params, report = classifier_fit.fit(
      sampler, arrays, thresholds, per_emotion=_PER_EMOTION.value, bars=_BARS.value,
      temperature=_TEMPERATURE.value, steps=_STEPS.value, seed=_SEED.value, log=logging.info)
  description = dict(sampler.description, emotion_classifier_fit=report)
  exports.rewrite_export(folder, {"vae": sampler.params["vae"], "emotion": params}, description)
  print(f"E agrees with the judge on {report['held_out_melodies']} held-out samples: "
        f"{report['held_out_agreement_with_judge_before']:.3f} before, "
        f"{report['held_out_agreement_with_judge_after']:.3f} after; wrote {folder}")


if __name__ == "__main__":
  app.run(main)
