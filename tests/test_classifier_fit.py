"""E fitted to the judge on the model's own samples (hrnnvae/classifier_fit.py), after training
(hrnnvae.post_training.fit_emotion_classifier, launch/fit_emotion_classifier.py)."""

import json
import pathlib
import shutil
import subprocess
import sys

import jax
import numpy as np
import pytest
from flax import serialization

from hrnnvae import classifier_fit, exports, post_training
from hrnnvae.data import emotion as emotion_lib
from hrnnvae.sample import Sampler


def test_judged_samples_are_the_judges_labels_of_prior_samples(tiny_workdir, nottingham_40):
  _, _, manifest = nottingham_40
  thresholds = emotion_lib.ArousalThresholds(**manifest["arousal_thresholds"])
  sampler = Sampler.load(tiny_workdir / "export")
  events, requested, judged = classifier_fit.judged_samples(sampler, 6, 2, 0.5, 0, thresholds)
  assert events.shape == (24, 2 * sampler.steps_per_bar)
  np.testing.assert_array_equal(requested, np.repeat(np.arange(4), 6))
  features = emotion_lib.melody_features(events, np.full(24, events.shape[1]),
                                         np.full(24, sampler.steps_per_bar))
  np.testing.assert_array_equal(judged, emotion_lib.emotion_labels(features, thresholds))


def test_fit_learns_the_judges_labels_and_the_export_keeps_them(tiny_workdir, nottingham_40,
                                                                 tmp_path):
  export = tmp_path / "export"
  shutil.copytree(tiny_workdir / "export", export)
  original = Sampler.load(export)
  messages = []
  report = post_training.fit_emotion_classifier(export, nottingham_40[0], per_emotion=16, steps=60,
                                                seed=0, bars=2, log=messages.append)
  assert report["last_loss"] < report["first_loss"]  # E learns the mix of labels
  assert 0.0 <= report["held_out_agreement_with_judge_after"] <= 1.0
  assert report["temperature"] == original.temperature  # None: the model's own
  assert (report["pool_melodies"], report["bars"], report["steps"]) == (64, 2, 60)
  assert messages[-1].startswith("E agrees with the judge on") and messages[-1].endswith(str(export))

  refit = Sampler.load(export)
  assert jax.tree.map(np.shape, refit.params["emotion"]) == jax.tree.map(
      np.shape, original.params["emotion"])
  assert not all(jax.tree.leaves(jax.tree.map(np.array_equal, refit.params["emotion"],
                                              original.params["emotion"])))
  assert all(jax.tree.leaves(jax.tree.map(np.array_equal, refit.params["vae"],
                                          original.params["vae"])))
  description = json.loads((export / "config.json").read_text())
  assert description == dict(original.description, emotion_classifier_fit=report)
  assert sorted(p.name for p in export.iterdir()) == sorted(  # no partial or old folder left
      [p.name for p in (tiny_workdir / "export").iterdir()] + [post_training.E_START_FILE])
  # The session's export is untouched: the fit reads its own copy of the parameters.
  _, kept = exports.load_export(tiny_workdir / "export")
  assert "emotion_classifier_fit" not in kept


def test_fitting_e_again_starts_from_trainings_e_so_it_is_fitting_once(tiny_workdir, nottingham_40,
                                                                       tmp_path):
  export = tmp_path / "export"
  shutil.copytree(tiny_workdir / "export", export)
  trained = Sampler.load(export).params["emotion"]

  def fit():
    report = post_training.fit_emotion_classifier(export, nottingham_40[0], per_emotion=8,
                                                  steps=5, seed=0, bars=2)
    return report, Sampler.load(export).params["emotion"]

  first_report, first = fit()
  kept = serialization.msgpack_restore((export / post_training.E_START_FILE).read_bytes())
  assert all(jax.tree.leaves(jax.tree.map(np.array_equal, kept, trained)))
  second_report, second = fit()
  assert not all(jax.tree.leaves(jax.tree.map(np.array_equal, first, trained)))
  assert all(jax.tree.leaves(jax.tree.map(np.array_equal, second, first)))
  assert (second_report["held_out_agreement_with_judge_before"]
          == first_report["held_out_agreement_with_judge_before"])


def test_a_shipped_model_is_refit_from_its_run(tiny_workdir, nottingham_40, tmp_path):
  shipped = tmp_path / "shipped"
  shipped.mkdir()
  shutil.copy(tiny_workdir / "export" / "config.json", shipped)  # no orbax params/
  with pytest.raises(post_training.PostTrainingError, match="refit from the run it came from"):
    post_training.fit_emotion_classifier(shipped, nottingham_40[0], per_emotion=4, steps=1, seed=0)


def test_fit_emotion_classifier_script_has_the_flags():
  script = pathlib.Path(__file__).parent.parent / "launch" / "fit_emotion_classifier.py"
  result = subprocess.run([sys.executable, str(script), "--helpshort"], capture_output=True,
                          text=True, timeout=120)
  assert "Traceback" not in result.stderr, result.stderr[-2000:]  # absl's help exits 1
  for flag in ("--model", "--cache", "--per_emotion", "--bars", "--temperature", "--steps", "--seed"):
    assert flag in result.stdout, flag
  assert "the model's own" in result.stdout
