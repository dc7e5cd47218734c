"""configs/default.py is the one home of every default: each field commented, read whole and
strictly by the typed hparams, and every preset and ablation builds."""

import dataclasses
import json
import pathlib
import re
import runpy

import pytest

from hrnnvae.models.hparams import ModelHParams
from hrnnvae.train.step import LossHParams

from conftest import CONFIGS, load_config

ROOT = pathlib.Path(__file__).parent.parent


def test_every_default_field_has_a_comment():
  text = (CONFIGS / "default.py").read_text()
  lines = text[text.index("def get_config"):].splitlines()
  uncommented = []
  for index, line in enumerate(lines):
    match = re.match(r"\s*config(\.\w+)+ = ", line)
    if not match or "ConfigDict()" in line:
      continue
    above = lines[index - 1].strip() if index else ""
    if "#" not in line and not above.startswith("#"):
      uncommented.append(line.strip())
  assert not uncommented


def test_the_hparams_write_no_defaults_of_their_own():
  """Only the encoding's constants have a default; every setting comes from the config."""
  for cls in (ModelHParams, LossHParams):
    with_default = {f.name for f in dataclasses.fields(cls)
                    if f.default is not dataclasses.MISSING}
    assert with_default <= {"num_classes", "num_emotions"}, cls


def test_the_model_takes_every_config_field_and_refuses_an_unknown_one():
  model = load_config("default.py").model
  assert ModelHParams.config_fields() == set(model.keys())
  loose = load_config("default.py").model
  loose.unlock()
  loose.atention_dim = 8  # a misspelling
  with pytest.raises(ValueError, match="unknown field.*atention_dim"):
    ModelHParams.from_config(loose, 64, 16, 16, 4)
  del loose["atention_dim"]
  del loose["attention_dim"]
  with pytest.raises(ValueError, match="missing field.*attention_dim"):
    ModelHParams.from_config(loose, 64, 16, 16, 4)


def test_the_losses_take_every_config_field_and_refuse_an_unknown_one():
  config = load_config("default.py")
  assert {f.name for f in dataclasses.fields(LossHParams)} == set(config.loss.keys())
  hp = LossHParams.from_config(config.loss)
  assert (hp.beta_max, hp.free_bits, hp.emotion_term) == (config.loss.beta_max,
                                                          config.loss.free_bits, "features")
  loose = load_config("default.py").loss
  loose.unlock()
  loose.kl_warmup = 10
  with pytest.raises(ValueError, match="unknown field.*kl_warmup"):
    LossHParams.from_config(loose)
  loose = load_config("default.py").loss
  loose.emotion_term = "vibes"
  with pytest.raises(ValueError, match="emotion_term"):
    LossHParams.from_config(loose)


@pytest.mark.parametrize("name", sorted(p.name for p in CONFIGS.glob("*.py")))
def test_every_preset_and_ablation_builds(name):
  default = load_config("default.py")
  variants = [None] + list(runpy.run_path(str(CONFIGS / "default.py"))["VARIANTS"])
  for variant in variants:
    config = load_config(name, variant)
    assert set(config.keys()) == set(default.keys())
    for section in ("data", "model", "loss", "sample", "train", "post"):
      assert set(config[section].keys()) == set(default[section].keys()), (name, section)
    hp = ModelHParams.from_config(config.model, 256, 16, 16, 16)
    LossHParams.from_config(config.loss)
    if variant == "phrase_lookback":  # the matching bar of the previous phrase and period
      assert hp.lookback_input and hp.lookback_bars == (4, 8)


def test_exports_load_as_recorded_and_removed_fields_are_checked():
  shipped = json.loads((ROOT / "hrnnvae" / "pretrained" / "nottingham" / "config.json").read_text())
  hp = ModelHParams.from_export(shipped["model"])
  assert hp.decoder_dim == 128 and hp.attention_window == 96
  older = {k: v for k, v in shipped["model"].items() if k != "lookback_input"}
  assert ModelHParams.from_export(older).lookback_input is False  # what older exports trained
  assert ModelHParams.from_export(older).lookback_bars == (1, 2)
  # JSON gives the bar distances as a list; the hparams keep a tuple (hashable for jit).
  phrase = ModelHParams.from_export({**shipped["model"], "lookback_bars": [4, 8]})
  assert phrase.lookback_bars == (4, 8) and hash(phrase)
  with pytest.raises(ValueError, match="lookback_bars"):
    ModelHParams.from_export({**shipped["model"], "lookback_bars": [0, 8]})
  with pytest.raises(ValueError, match="context_dim"):
    ModelHParams.from_export({**shipped["model"], "context_dim": 256})
  with pytest.raises(ValueError, match="does not know: colour"):
    ModelHParams.from_export({**shipped["model"], "colour": "blue"})


def test_sampling_defaults_are_the_models_own():
  """The default config's sampling settings are what a new export records; the shipped model
  records its own, which every tool reads through Sampler (exports.sampling_settings)."""
  from hrnnvae import exports, post_training
  config = load_config("default.py")
  assert set(config.sample.keys()) == {"temperature", "top_p", "emotion_guidance", "repeat_penalty",
                                       "short_note_penalty", "transfer_shift", "transfer_keep",
                                       "transfer_guidance", "transfer_edits", "candidates",
                                       "attention_bars", "section_bars", "section_correlation",
                                       "section_repeats", "guidance_happy", "guidance_tense",
                                       "guidance_sad", "guidance_calm"}
  assert set(config.sample.keys()) == set(exports.SAMPLING_KEYS)
  folder = ROOT / "hrnnvae" / "pretrained" / "nottingham"
  shipped = json.loads((folder / "config.json").read_text())
  assert exports.sampling_settings(shipped) == {"temperature": 0.7, "top_p": 0.95,
                                                "emotion_guidance": 1.0, "repeat_penalty": 1.5,
                                                "short_note_penalty": 1.0,
                                                "transfer_shift": 0.0, "transfer_keep": 2.0,
                                                "transfer_guidance": 1.5, "transfer_edits": 0.0,
                                                "candidates": 16,
                                                "attention_bars": 8, "section_bars": 0,
                                                "section_correlation": 0.0,
                                                "section_repeats": 1.0,
                                                "guidance_happy": 0.0, "guidance_tense": 0.0,
                                                "guidance_sad": 0.0, "guidance_calm": 0.0}
  # ... which are the one command's (issue 19 (v), (vi): the repeat penalty 1.5, the critic's 16
  # candidates and the 8-bar reach that the validation sweeps chose), so the command reproduces
  # how it samples, and E and the critic were fitted on samples drawn that way
  assert exports.sampling_settings(shipped) == load_config("nottingham_ship.py").sample.to_dict()
  for fit in ("realism_critic_fit", "emotion_classifier_fit"):
    assert post_training.recorded_fit_sampling(shipped[fit]) == {
        key: float(value) for key, value in exports.sampling_settings(shipped).items()
        if key not in ("candidates", "transfer_shift", "transfer_keep", "transfer_guidance",
                       "transfer_edits")}
  assert "realism_critic_fit" in shipped and "emotion_classifier_fit" in shipped
  recipe = load_config("nottingham_ship.py").post  # the critic the one command fits
  assert shipped["realism_critic_fit"]["input"] == recipe.critic_input
  assert shipped["realism_critic_fit"]["min_real_windows"] == recipe.critic_min_windows
  # emotion transfer's adapter, fitted as the recipe asks, at the sampling the model ships with
  fitted = shipped["transfer_adapter_fit"]
  assert fitted["asked"] == post_training.transfer_fit_asked(
      shipped, recipe.transfer_adapter_steps, recipe.transfer_adapter_learning_rate,
      recipe.transfer_adapter_keep_weight, recipe.transfer_adapter_tune_steps,
      recipe.transfer_adapter_fit_keep)
  # ... and its second leg, from where the first left it, at a stronger keep bias
  assert fitted[post_training.TRANSFER_REFINE_KEY]["asked"] == post_training.transfer_fit_asked(
      shipped, recipe.transfer_adapter_refine_steps, recipe.transfer_adapter_learning_rate,
      recipe.transfer_adapter_keep_weight, recipe.transfer_adapter_tune_steps,
      recipe.transfer_adapter_refine_keep)
