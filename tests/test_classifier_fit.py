"""E fitted to the judge on the model's own samples (hrnnvae/classifier_fit.py)."""

import json
import shutil

import jax
import numpy as np

from hrnnvae import classifier_fit, exports
from hrnnvae.data import emotion as emotion_lib
from hrnnvae.sample import Sampler


def test_fit_learns_the_judges_labels_and_the_export_keeps_them(tiny_workdir, nottingham_40,
                                                                 tmp_path):
  _, arrays, manifest = nottingham_40
  thresholds = emotion_lib.ArousalThresholds(**manifest["arousal_thresholds"])
  sampler = Sampler.load(tiny_workdir / "export")
  events, requested, judged = classifier_fit.judged_samples(sampler, 6, 2, 0.5, 0, thresholds)
  assert events.shape == (24, 2 * sampler.steps_per_bar)
  np.testing.assert_array_equal(requested, np.repeat(np.arange(4), 6))
  features = emotion_lib.melody_features(events, np.full(24, events.shape[1]),
                                         np.full(24, sampler.steps_per_bar))
  np.testing.assert_array_equal(judged, emotion_lib.emotion_labels(features, thresholds))

  before = jax.tree.map(np.asarray, sampler.params["emotion"])
  params, report = classifier_fit.fit(sampler, arrays, thresholds, per_emotion=16, bars=2,
                                      steps=60, batch_size=16, learning_rate=3e-3)
  assert report["last_loss"] < report["first_loss"]  # E learns the mix of labels
  assert 0.0 <= report["held_out_agreement_with_judge_after"] <= 1.0
  assert jax.tree.map(np.shape, params) == jax.tree.map(np.shape, before)
  assert all(jax.tree.leaves(jax.tree.map(np.array_equal, sampler.params["emotion"], before)))

  export = tmp_path / "export"
  shutil.copytree(tiny_workdir / "export", export)
  description = dict(sampler.description, emotion_classifier_fit=report)
  exports.rewrite_export(export, {"vae": sampler.params["vae"], "emotion": params}, description)
  refit = Sampler.load(export)
  assert all(jax.tree.leaves(jax.tree.map(np.array_equal, refit.params["emotion"], params)))
  assert all(jax.tree.leaves(jax.tree.map(np.array_equal, refit.params["vae"],
                                          sampler.params["vae"])))
  assert json.loads((export / "config.json").read_text())["emotion_classifier_fit"] == report
  assert sorted(p.name for p in export.iterdir()) == sorted(
      p.name for p in (tiny_workdir / "export").iterdir())  # no partial or old folder left
