"""What follows training as hrnnvae-train runs it (hrnnvae.post_training.run_stages, RunClock) and
the one command that trains what ships (launch/train_shipped.sh, configs/nottingham_ship.py)."""

import json
import os
import pathlib
import re
import shutil
import stat
import subprocess
import sys

import jax
import numpy as np
import pytest
from flax import serialization

from hrnnvae import post_training, pretrained, realism_critic
from hrnnvae.data import events as events_lib
from hrnnvae.post_training import RunClock
from hrnnvae.sample import SampleError, Sampler

from conftest import load_config

ROOT = pathlib.Path(__file__).parent.parent


def test_the_run_clock_adds_every_call_and_counts_a_killed_one_to_its_last_tick(tmp_path):
  first = RunClock(tmp_path, step=0)
  first.start -= 100.0  # as if the first call had run 100 s
  first.tick(400)
  second = RunClock(tmp_path, step=400)  # the first call was killed after its last tick
  second.start -= 30.0
  second.tick(600)
  calls = json.loads((tmp_path / post_training.RUN_TIME_FILE).read_text())["calls"]
  assert [(call["from_step"], call["to_step"]) for call in calls] == [(0, 400), (400, 600)]
  assert RunClock.total_seconds(tmp_path) == pytest.approx(130.0, abs=1.0)
  assert RunClock.total_seconds(tmp_path / "elsewhere") == 0.0


def _ship_config(cache_dir, ship_root, **post):
  config = load_config("tiny.py")
  config.data.cache_dir = str(cache_dir)
  config.post.emotion_fit_steps = 2
  config.post.emotion_fit_per_emotion = 4
  config.post.ship_as = "tiny_ship"
  config.post.ship_root = str(ship_root)
  for field, value in post.items():
    config.post[field] = value
  return config


@pytest.mark.slow
def test_the_stages_after_training_fit_e_and_ship_once_for_each_export(tiny_workdir, nottingham_40,
                                                                       tmp_path):
  """On a copy of the tiny run (whose training fitted the prior): the critic's fit, E's fit and
  shipping run, the manifest records the command, this machine and the run's wall time, and the
  shipped model samples with its critic; a second call redoes nothing; a new export (training
  resumed further) is fitted and shipped again."""
  run = tmp_path / "run"
  shutil.copytree(tiny_workdir, run, ignore=shutil.ignore_patterns("checkpoints", "tensorboard"))
  config = _ship_config(nottingham_40[0], tmp_path / "pretrained", critic_fit_steps=20,
                        critic_fit_per_emotion=4)
  messages = []
  done = post_training.run_stages(config, run, command="hrnnvae-train --config=configs/tiny.py",
                                  log=messages.append)
  assert done["latent_prior"] == "already fitted to this export"  # hrnnvae-train fitted it
  assert all(done[stage].startswith("done") for stage in ("critic_fit", "emotion_fit", "ship")), done
  shipped = tmp_path / "pretrained" / "tiny_ship"
  manifest = json.loads((shipped / "manifest.json").read_text())
  stages = json.loads((run / post_training.STAGES_FILE).read_text())
  assert manifest["command"] == "hrnnvae-train --config=configs/tiny.py"
  assert manifest["device"] == post_training.device_description()
  assert RunClock.total_seconds(run) > 0
  assert manifest["wall_time_s"] == pytest.approx(
      RunClock.total_seconds(run) + stages["latent_prior"]["seconds"]
      + stages["critic_fit"]["seconds"] + stages["emotion_fit"]["seconds"], abs=0.3)
  shipped_config = json.loads((shipped / "config.json").read_text())
  assert "emotion_classifier_fit" in shipped_config  # E's fit came before shipping
  assert shipped_config["realism_critic_fit"]["steps"] == 20  # and kept the critic's fit
  sampler = Sampler.load(shipped)
  assert sampler.has_critic
  assert len(sampler.sample([0, 1, 2, 3], 16, seed=0, candidates=3)) == 4
  assert manifest["prior"] == "fitted"
  assert any(message.startswith("shipped ") for message in messages)

  again = post_training.run_stages(config, run, command="another command")
  assert again == {"latent_prior": "already fitted to this export",
                   "critic_fit": "the realism critic already fitted in this export",
                   "emotion_fit": "E already fitted in this export",
                   "ship": f"this export is already shipped as {shipped}"}
  assert json.loads((shipped / "manifest.json").read_text()) == manifest

  # New sampling settings: the critic's and E's samples are not the model's any more, so both
  # are fitted again (on samples drawn with them) and the model shipped again; the prior stays.
  post_training.set_sampling(run / "export", {"attention_bars": 2, "candidates": 3},
                             chosen_by="a test")
  resampled = post_training.run_stages(config, run, command="hrnnvae-train --config=configs/tiny.py")
  assert resampled["latent_prior"] == "already fitted to this export"
  assert all(resampled[stage].startswith("done") for stage in ("critic_fit", "emotion_fit", "ship"))
  refitted = json.loads((shipped / "config.json").read_text())
  for fit in ("realism_critic_fit", "emotion_classifier_fit"):
    assert refitted[fit]["sampling"]["attention_bars"] == 2.0
    assert refitted[fit]["sampling"]["temperature"] == Sampler.load(shipped).temperature
  assert post_training.run_stages(config, run, command="c")["critic_fit"].startswith("the realism")

  # Another critic input: only the critic is fitted again (reading it), and shipped again.
  config.post.critic_input, config.post.critic_min_windows = "key_relative", 0
  rekeyed = post_training.run_stages(config, run, command="hrnnvae-train --config=configs/tiny.py")
  assert rekeyed["critic_fit"].startswith("done") and rekeyed["ship"].startswith("done")
  assert rekeyed["emotion_fit"] == "E already fitted in this export"
  rekeyed_fit = json.loads((shipped / "config.json").read_text())["realism_critic_fit"]
  assert rekeyed_fit["input"] == "key_relative" and rekeyed_fit["resampled_quadrants"] == [0, 1, 2, 3]
  assert len(Sampler.load(shipped).sample([0, 1, 2, 3], 16, seed=0, candidates=3)) == 4

  # The recipe changes a sampling setting after training: the export takes it and ships again.
  # Candidates shape neither fit's samples, so neither is redone; the reach set by hand stays.
  config.sample.candidates = 5
  recipe = post_training.run_stages(config, run, command="hrnnvae-train --config=configs/tiny.py")
  assert recipe["sampling"] == "set from the config: {'candidates': 5.0}"
  assert recipe["critic_fit"].startswith("the realism") and recipe["emotion_fit"].startswith("E ")
  assert recipe["ship"].startswith("done")
  shipped_sampling = json.loads((shipped / "config.json").read_text())["sampling"]
  assert (shipped_sampling["candidates"], shipped_sampling["attention_bars"]) == (5, 2)
  assert Sampler.load(shipped).candidates == 5
  assert "sampling" not in post_training.run_stages(config, run, command="c")

  # Another step count for the critic's fit: only the critic is fitted again, for that many.
  config.post.critic_fit_steps = 10
  restepped = post_training.run_stages(config, run, command="hrnnvae-train --config=configs/tiny.py")
  assert restepped["critic_fit"].startswith("done") and restepped["emotion_fit"].startswith("E ")
  assert json.loads((shipped / "config.json").read_text())["realism_critic_fit"]["steps"] == 10

  # Shorter windows for the critic: only the critic is fitted again, on them, and the shipped
  # model reads its samples in them.
  config.post.critic_bars = 8
  rewindowed = post_training.run_stages(config, run, command="hrnnvae-train --config=configs/tiny.py")
  assert rewindowed["critic_fit"].startswith("done") and rewindowed["emotion_fit"].startswith("E ")
  assert realism_critic.windows_of(json.loads((shipped / "config.json").read_text())) == (8, 4)

  # A critic that also reads the bars' restatements and where each melody sits: only the critic
  # is fitted again, and the shipped model's candidates are scored by it.
  config.post.critic_repetition = config.post.critic_register = True
  repeated = post_training.run_stages(config, run, command="hrnnvae-train --config=configs/tiny.py")
  assert repeated["critic_fit"].startswith("done") and repeated["emotion_fit"].startswith("E ")
  shipped_description = json.loads((shipped / "config.json").read_text())
  assert realism_critic.repetition_of(shipped_description)
  assert realism_critic.register_of(shipped_description)
  assert len(Sampler.load(shipped).sample([0, 1, 2, 3], 16, seed=0, candidates=3)) == 4

  # An ensemble of two critics (post.critic_fits): only the critic is fitted again, its first
  # member the lone critic just fitted (the same seed and options), its second at the next seed;
  # the shipped model samples with it and reads a candidate by the mean of their log-ratios.
  lone = Sampler.load(shipped).params[realism_critic.PARAMS_KEY]
  config.post.critic_fits = 2
  ensembled = post_training.run_stages(config, run, command="hrnnvae-train --config=configs/tiny.py")
  assert ensembled["critic_fit"].startswith("done") and ensembled["emotion_fit"].startswith("E ")
  fit = json.loads((shipped / "config.json").read_text())["realism_critic_fit"]
  assert fit["fits"] == 2 and [member["seed"] for member in fit["members"]] == [0, 1]
  ensemble_sampler = Sampler.load(shipped)
  members = realism_critic.members_of(ensemble_sampler.params[realism_critic.PARAMS_KEY])
  assert len(members) == 2
  jax.tree.map(np.testing.assert_array_equal, members[0], lone)
  assert not np.array_equal(*(jax.tree.leaves(member)[0] for member in members))
  assert len(ensemble_sampler.sample([0, 1, 2, 3], 16, seed=0, candidates=3)) == 4
  assert post_training.run_stages(config, run, command="c")["critic_fit"].startswith("the realism")

  config = _ship_config(nottingham_40[0], tmp_path / "pretrained", command="bash launch/x.sh")
  export_config = json.loads((run / "export" / "config.json").read_text())  # a later export
  del export_config["emotion_classifier_fit"], export_config["realism_critic_fit"]
  export_config["step"] += 1
  export_config["sampling"] = config.sample.to_dict()  # as the export writes them
  (run / "export" / "config.json").write_text(json.dumps(export_config))
  later = post_training.run_stages(config, run, command="ignored: post.command wins")
  assert all(what.startswith("done") for what in later.values()), later
  manifest = json.loads((shipped / "manifest.json").read_text())
  assert manifest["command"] == "bash launch/x.sh" and manifest["steps"] == export_config["step"]


def test_a_later_call_records_its_post_and_sample_sections_in_the_export(tmp_path):
  """The export's recorded config is written by the call that trained; a later call that only
  runs the stages after training (e.g. the plain one command resuming a screen run with its
  adapters off) writes its own post and sample sections there, so what ships says how it was
  made. A call asking the same rewrites nothing (a shipped model is not shipped again)."""
  config = load_config("tiny.py")
  config.train.fit_latent_prior = False
  config.post.command = "a screen: --config.post.bar_adapter_steps=0 --config.post.ship_as="
  export = tmp_path / "export"
  export.mkdir()
  trained = {"config": {**config.to_dict(), "seed": 7}, "model": {"family": "hrnnvae"},
             "step": 12, "sampling": {}}
  trained["config"]["post"] = {**config.post.to_dict(), "bar_adapter_steps": 0, "ship_as": ""}
  (export / "config.json").write_text(json.dumps(trained, default=str))
  config.post.command = "bash launch/train_shipped.sh --source=DIR"
  config.sample.temperature = 0.6
  messages = []
  post_training.run_stages(config, tmp_path, command="c", log=messages.append)
  recorded = json.loads((export / "config.json").read_text())
  assert recorded["config"]["post"] == json.loads(json.dumps(config.post.to_dict()))
  assert recorded["config"]["post"]["command"] == "bash launch/train_shipped.sh --source=DIR"
  assert recorded["config"]["sample"]["temperature"] == 0.6
  assert recorded["config"]["seed"] == 7 and recorded["step"] == 12  # the rest as trained
  assert any("recorded this call's config sections ['post', 'sample']" in m for m in messages)
  written = (export / "config.json").read_bytes()
  post_training.run_stages(config, tmp_path, command="c")
  assert (export / "config.json").read_bytes() == written


def test_stages_refuse_a_misspelled_field_and_a_run_without_export(tmp_path):
  config = load_config("tiny.py")
  config.unlock()
  config.post.ship_ass = "x"
  with pytest.raises(ValueError, match="unknown field.*ship_ass"):
    post_training.run_stages(config, tmp_path, command="c")
  with pytest.raises(post_training.PostTrainingError, match="no export in"):
    post_training.run_stages(load_config("tiny.py"), tmp_path, command="c")


def _fake_tools(folder: pathlib.Path) -> dict:
  """hrnnvae-data and hrnnvae-train stand-ins that write their arguments, one a line."""
  folder.mkdir()
  for tool in ("hrnnvae-data", "hrnnvae-train"):
    script = folder / tool
    script.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > "{folder}/{tool}.args"\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
  return dict(os.environ, PATH=f"{folder}:{os.environ['PATH']}", VIRTUAL_ENV=str(folder))


def test_the_one_command_prepares_the_data_and_trains_the_shipped_recipe(tmp_path):
  env = _fake_tools(tmp_path / "bin")
  script = ROOT / "launch" / "train_shipped.sh"
  missing = subprocess.run(["bash", str(script)], capture_output=True, text=True, env=env)
  assert missing.returncode == 2 and "pass --source=DIR" in missing.stderr
  result = subprocess.run(["bash", str(script), "--source=/data/nottingham", f"--run={tmp_path}/run",
                           "--config.train.max_steps=10"], capture_output=True, text=True, env=env)
  assert result.returncode == 0, result.stderr
  prepare = (tmp_path / "bin" / "hrnnvae-data.args").read_text().splitlines()
  assert prepare == ["prepare", "--dataset=nottingham", "--source=/data/nottingham",
                     f"--out={tmp_path}/run/data", "--transpose=5"]
  train = (tmp_path / "bin" / "hrnnvae-train.args").read_text().splitlines()
  assert train == ["--config=configs/nottingham_ship.py", f"--config.data.cache_dir={tmp_path}/run/data",
                   f"--workdir={tmp_path}/run",
                   "--config.post.command=bash launch/train_shipped.sh --source=DIR "
                   "--config=configs/nottingham_ship.py --config.train.max_steps=10",
                   "--config.train.max_steps=10"]
  jsb = subprocess.run(["bash", str(script), "--dataset=jsb_chorales", "--source=/data/jsb",
                        f"--run={tmp_path}/jsb"], capture_output=True, text=True, env=env)
  assert jsb.returncode == 0, jsb.stderr
  prepare = (tmp_path / "bin" / "hrnnvae-data.args").read_text().splitlines()
  assert prepare[:3] == ["prepare", "--dataset=jsb_chorales", "--source=/data/jsb"]
  train = (tmp_path / "bin" / "hrnnvae-train.args").read_text().splitlines()
  assert train[0] == "--config=configs/jsb_ship.py"
  assert train[-1] == ("--config.post.command=bash launch/train_shipped.sh --dataset=jsb_chorales "
                       "--source=DIR --config=configs/jsb_ship.py")
  unknown = subprocess.run(["bash", str(script), "--dataset=bach", "--source=/data"],
                           capture_output=True, text=True, env=env)
  assert unknown.returncode == 2 and "nottingham or jsb_chorales" in unknown.stderr


def test_the_shipped_recipe_is_the_cpu_preset_with_the_fine_tune_and_every_stage():
  recipe, cpu = load_config("nottingham_ship.py"), load_config("nottingham_cpu.py")
  paper, paper_size = load_config("nottingham.py"), load_config("nottingham_ship.py", "paper_size")
  assert recipe.model.decoder_dim == cpu.model.decoder_dim == 128
  assert paper_size.model.decoder_dim == paper.model.decoder_dim == 256
  assert paper_size.model.attention_window_bars == paper.model.attention_window_bars == 0
  for config in (recipe, paper_size):
    assert config.model.latent_dim == 256 and config.loss.free_bits == 256
    assert (config.loss.aux_start_step, config.train.max_steps) == (8000, 10000)
    assert (config.loss.emotion_weight, config.train.finetune_export) == (2.0, "last")
    assert config.loss.arousal_density_cap == 1.6  # the shipped model's overrides, folded in
    assert config.loss.realism_weight == 10.0 and config.loss.realism_per_quadrant
    assert config.train.fit_latent_prior and config.post.emotion_fit_steps > 0
    assert config.post.critic_fit_steps > 0
    assert (config.post.critic_input, config.post.critic_min_windows) == ("key_relative", 0)
    assert config.post.ship_as == "nottingham"
    # per-bar latents that most training melodies drop; transfer's own guidance
    assert (config.model.bar_latent_dim, config.model.bar_latent_dropout) == (16, 0.8)
    assert (config.post.bar_adapter_steps, config.post.bar_adapter_dim) == (2500, 256)
    assert (config.post.transfer_adapter_steps, config.post.transfer_adapter_keep_weight) == (
        6000, 1.0)
    # transfers decode the tune's own latent, unshifted, as the adapter was fitted
    assert (config.sample.transfer_shift, config.sample.transfer_guidance) == (0.0, 1.5)
    # two legs at rising keep bias; transfers favour the tune more than either did
    assert config.post.transfer_adapter_fit_keep == 1.0
    assert (config.post.transfer_adapter_refine_steps,
            config.post.transfer_adapter_refine_keep) == (3000, 1.5)
    assert config.sample.transfer_keep == 2.0
  assert paper_size.variant == "paper_size"
  no_vae = load_config("nottingham_ship.py", "paper_size,no_vae")
  assert no_vae.model.use_vae is False and no_vae.model.bar_latent_dim == 0  # cannot read them
  assert load_config("nottingham_ship.py", "flat").model.bar_latent_dim == 0
  for variant in ("flat", "bar_prior"):  # no dropped bars to adapt: no adapters
    flat = load_config("nottingham_ship.py", variant)
    assert flat.post.bar_adapter_steps == flat.post.transfer_adapter_steps == 0
    assert flat.sample.transfer_guidance == 1.5  # transfer from z alone keeps its own
    assert flat.sample.transfer_keep == 0.0


def test_an_ensemble_of_no_critics_is_refused_before_anything_is_read(tmp_path):
  with pytest.raises(post_training.PostTrainingError, match="at least one critic"):
    post_training.fit_critic(tmp_path / "no_export", tmp_path / "no_cache", per_emotion=4,
                             steps=1, seed=0, fits=0)


def test_the_jsb_recipe_is_the_same_recipe_at_jsb_size():
  recipe, cpu = load_config("jsb_ship.py"), load_config("jsb_chorales_cpu.py")
  assert recipe.model.decoder_dim == cpu.model.decoder_dim and recipe.train.batch_size == 32
  assert recipe.loss.aux_start_step < recipe.train.max_steps
  assert (recipe.loss.emotion_weight, recipe.train.finetune_export) == (1.0, "last")
  # the realism MMD one quadrant at a time, as Nottingham's; not its density cap
  assert recipe.loss.realism_weight == 10.0 and recipe.loss.realism_per_quadrant
  assert recipe.loss.arousal_density_cap == 0.0
  assert recipe.train.fit_latent_prior and recipe.post.emotion_fit_steps > 0
  assert recipe.post.critic_fit_steps > 0 and recipe.sample.candidates > 1
  assert (recipe.post.critic_input, recipe.post.critic_min_windows) == ("key_relative", 0)
  assert recipe.post.critic_repetition  # it reads the bars' restatements, Nottingham's does not
  assert not load_config("nottingham_ship.py").post.critic_repetition
  assert recipe.post.critic_fits == 1  # the shipped model's lone critic (xxvi: three not kept)
  # samples in 4-bar sections from one latent: the decoder that can write them (Sampler.has_sections)
  assert (recipe.sample.section_bars, recipe.sample.section_correlation) == (4, 1.0)
  assert (recipe.sample.emotion_guidance, recipe.sample.guidance_tense) == (1.75, 1.5)
  assert recipe.sample.guidance_sad == 1.5  # the sad samples heard in major at 1.75 (xxv)
  assert load_config("nottingham_ship.py").sample.guidance_sad == 0.0  # JSB's alone
  assert recipe.model.hierarchical and recipe.model.decoder == "bar_reset"
  assert recipe.sample.repeat_penalty == 10.0  # chosen on the validation chorales
  # per-bar latents that most chorales drop, read through the adapter; guidance chosen on them
  assert (recipe.model.bar_latent_dim, recipe.model.bar_latent_dropout) == (16, 0.8)
  assert (recipe.post.bar_adapter_steps, recipe.post.bar_adapter_dim) == (2500, 256)
  assert (recipe.post.transfer_adapter_steps, recipe.post.transfer_adapter_keep_weight) == (
      6000, 1.0)
  # the adapter fitted at keep bias 1; transfers favour the tune more (1.5)
  assert (recipe.post.transfer_adapter_fit_keep, recipe.sample.transfer_keep) == (1.0, 1.5)
  assert (recipe.sample.emotion_guidance, recipe.sample.transfer_guidance) == (1.75, 1.25)
  assert recipe.sample.transfer_shift == 0.0  # the tune's own latent, as the adapter was fitted
  flat = load_config("jsb_ship.py", "flat")
  assert flat.post.bar_adapter_steps == flat.post.transfer_adapter_steps == 0
  assert (flat.sample.transfer_guidance, flat.sample.transfer_shift) == (1.5, 1.5)  # z alone
  # the decoder reads the matching bar of the previous phrase and period, unless a variant
  # asks for its own lookback
  assert recipe.model.lookback_input and tuple(recipe.model.lookback_bars) == (4, 8)
  assert tuple(load_config("jsb_ship.py", "lookback").model.lookback_bars) == (1, 2)
  assert not load_config("jsb_ship.py", "paper").model.lookback_input
  assert load_config("jsb_ship.py", "no_emotion").model.lookback_input  # one that leaves it
  assert recipe.post.ship_as == "jsb_chorales"


def test_the_recipe_holds_every_override_of_the_shipped_nottingham_command():
  """Whatever config overrides the shipped manifest's command passed as flags (the (iv) model's
  did; since (vi) the command is the bare recipe), the recipe sets each, so the bare one command
  trains what ships."""
  command = pretrained.manifest("nottingham")["command"].split()
  assert command[:3] == ["bash", "launch/train_shipped.sh", "--source=DIR"], command
  overrides = [flag[len("--config."):].split("=", 1) for flag in command
               if flag.startswith("--config.")]
  recipe = load_config("nottingham_ship.py")
  for path, value in overrides:
    section, field = path.split(".")
    try:
      expected = float(value)
    except ValueError:
      expected = {"True": True, "False": False}.get(value, value)
    assert recipe[section][field] == expected, path
  # ... and the command's config with its variant and overrides is the bare recipe
  (config_flag,) = [flag for flag in command if flag.startswith("--config=")]
  variant = config_flag.partition(":")[2]
  commanded = load_config("nottingham_ship.py", variant or None)
  for path, value in overrides:
    section, field = path.split(".")
    commanded[section][field] = type(commanded[section][field])(
        {"True": True, "False": False}.get(value, value))
  for section in ("model", "loss", "train", "sample", "post"):
    assert commanded[section].to_dict() == recipe[section].to_dict(), section


@pytest.mark.slow
def test_the_adapters_report_decodes_each_validation_window_from_its_start_bar(monkeypatch):
  """bar_adapter's validation report: the windows it measures carry where each starts in its
  tune, and both greedy decodes (with the bars and from z alone) start there."""
  from hrnnvae import bar_adapter
  from hrnnvae.evaluation import scoring
  from hrnnvae.train import input_pipeline
  count = 10
  split = input_pipeline.Split(
      events=np.repeat(np.arange(count)[:, None] + 2, 32, axis=1), lengths=np.full(count, 32),
      steps_per_bar=np.full(count, 16), emotion=np.arange(count) % 4,
      start_bar=np.arange(count) * 2)
  windows = dict(zip(bar_adapter.MEASURED_KEYS, bar_adapter._measured_windows(split, seed=0)))
  rows = windows["events"][:, 0] - 2  # each window's events name its row
  np.testing.assert_array_equal(windows["start_bar"], split.start_bar[rows])
  np.testing.assert_array_equal(windows["emotion"], split.emotion[rows])
  first_bars = []

  def greedy_counts(sampler, latents, events, *args, first_bars_B=None, **kwargs):
    first_bars.append(first_bars_B)
    return events, {"real_steps": 1.0, "sampled_correct": 1.0, "both_onsets": 1.0,
                    "onset_pitch_correct": 1.0}

  class Model:
    hp = type("HParams", (), {"without_bar_latents": staticmethod(lambda mu: mu * 0)})

    def posterior(self, events, lengths, steps_per_bar):
      return np.ones((len(events), 4)), None

  monkeypatch.setattr(scoring, "greedy_counts", greedy_counts)
  bar_adapter.greedy_reconstruction(Model(), *(windows[key] for key in bar_adapter.MEASURED_KEYS))
  assert len(first_bars) == 2
  for decoded_from in first_bars:
    np.testing.assert_array_equal(decoded_from, windows["start_bar"])


def _bar_dropout_config(cache_dir):
  config = load_config("tiny.py", "bar_dropout")
  config.data.cache_dir = str(cache_dir)
  config.train.max_steps = 6
  return config


@pytest.fixture(scope="module")
def bar_dropout_trained(nottingham_40, tmp_path_factory):
  """A tiny model trained 6 steps with bar-latent dropout on the 40 tunes, trained once for the
  tests below that fit adapters to it (each fits on its own copy: _tiny_bar_dropout_run; one
  worker runs them: conftest's _SHARED_FIXTURES)."""
  from hrnnvae.train import train
  run = tmp_path_factory.mktemp("bar_dropout") / "run"
  train.train_and_evaluate(_bar_dropout_config(nottingham_40[0]), str(run))
  return run


def _tiny_bar_dropout_run(trained, cache_dir, tmp_path):
  """(its config, the run folder) of a tiny model trained 6 steps with bar-latent dropout on the
  cache: a copy of bar_dropout_trained in tmp_path, which the test's stages change."""
  run = tmp_path / "run"
  shutil.copytree(trained, run)
  return _bar_dropout_config(cache_dir), run


def test_the_bar_adapter_stage_fits_the_adapter_alone_and_never_changes_z_alone(
    bar_dropout_trained, nottingham_40, tmp_path):
  """A tiny model trained with bar-latent dropout, then config.post.bar_adapter_steps: only the
  adapter and the encoder's bar heads move, the validation ELBO with the bars falls on real
  tunes, prior samples (z alone) are bit-equal to the model's before, the shipped model loads
  with it; a second call redoes nothing and a refit starts from the model as trained."""
  from hrnnvae.models.hparams import ModelHParams
  config, run = _tiny_bar_dropout_run(bar_dropout_trained, nottingham_40[0], tmp_path)
  config.post.bar_adapter_steps, config.post.bar_adapter_dim = 20, 8
  config.post.bar_adapter_learning_rate = 3e-3
  config.post.ship_as, config.post.ship_root = "tiny_adapter", str(tmp_path / "pretrained")
  done = post_training.run_stages(config, run, command="c")
  assert done["bar_adapter"].startswith("done") and done["ship"].startswith("done"), done
  export = run / "export"
  description = json.loads((export / "config.json").read_text())
  report = description["bar_adapter_fit"]
  assert description["model"]["bar_adapter_dim"] == 8
  assert report["z_alone_decodes_unchanged"] and report["steps"] == 20
  assert report["validation_loss_after"] < report["validation_loss_before"]
  assert report["bucket_by_bar"] is False  # batched as the tiny config trains: one bucket
  start = serialization.msgpack_restore((export / post_training.ADAPTER_START_FILE).read_bytes())
  fitted = Sampler.load(export)
  flat = {jax.tree_util.keystr(path): leaf
          for path, leaf in jax.tree_util.tree_flatten_with_path(fitted.params["vae"])[0]}
  moved = set()
  for path, leaf in jax.tree_util.tree_flatten_with_path(start)[0]:
    if not np.array_equal(flat.pop(jax.tree_util.keystr(path)), leaf):
      moved.add(jax.tree_util.keystr(path).split("'")[1])
  assert moved == {"bar_mu", "bar_log_var"}  # of the model as trained, only the bar heads
  assert flat and all("adapter_" in name for name in flat)  # and the adapter is new
  trained = Sampler(ModelHParams.from_export({**description["model"], "bar_adapter_dim": 0}),
                    {**fitted.params, "vae": start}, description)
  for sampler in (trained, fitted):
    sampler.use_prior("standard")
  np.testing.assert_array_equal(fitted.sample([0, 1, 2, 3], 2, seed=0, candidates=1)[0].events,
                                trained.sample([0, 1, 2, 3], 2, seed=0, candidates=1)[0].events)
  # sample() skips the adapter (z_alone): decoding the same latents through it gives the same.
  latents = fitted.prior(4, 0, [0, 1, 2, 3])
  through = fitted.decode(latents, [0, 1, 2, 3], 32, seed=0)
  np.testing.assert_array_equal(through, fitted.decode(latents, [0, 1, 2, 3], 32, seed=0,
                                                       z_alone=True))
  with pytest.raises(SampleError, match="z_alone"):
    fitted.decode(latents + 1.0, [0, 1, 2, 3], 32, seed=0, z_alone=True)
  shipped = Sampler.load(tmp_path / "pretrained" / "tiny_adapter")
  assert shipped.hp.bar_adapter_dim == 8

  again = post_training.run_stages(config, run, command="c")
  assert again["bar_adapter"] == "the bar adapter already fitted in this export"
  assert again["ship"].startswith("this export is already shipped")
  config.post.bar_adapter_steps = 10  # another fit: from the model as trained, not the last fit
  refit = post_training.run_stages(config, run, command="c")
  assert refit["bar_adapter"].startswith("done") and refit["ship"].startswith("done")
  report_again = json.loads((export / "config.json").read_text())["bar_adapter_fit"]
  assert report_again["steps"] == 10
  assert report_again["validation_loss_before"] == report["validation_loss_before"]
  # launch/bar_adapter_bench.py on this run: both steps timed, and the two fits bit-equal
  # wherever the reference's clip (over every parameter's gradient) never bound.
  bench = subprocess.run(
      [sys.executable, str(pathlib.Path(__file__).parent.parent / "launch" / "bar_adapter_bench.py"),
       f"--workdir={run}", f"--cache={nottingham_40[0]}", "--width=8", "--timed_steps=1",
       "--fit_steps=3", f"--beta={config.loss.beta_max}", f"--free_bits={config.loss.free_bits}",
       f"--clip={config.train.grad_clip_norm}",
       f"--learning_rate={config.post.bar_adapter_learning_rate}", "--nobucket_by_bar",
       f"--max_steps={config.data.max_steps}"],  # the windows the run trained and fitted on
      capture_output=True, text=True, timeout=600)
  assert bench.returncode == 0, bench.stderr[-3000:]
  assert "reference (full gradient, masked)" in bench.stdout
  assert "shipped (trained leaves only)" in bench.stdout
  apart, bound = re.search(r"differ by at most (\S+);.* at (\d+) steps", bench.stdout).groups()
  assert int(bound) > 0 or float(apart) == 0.0, bench.stdout


@pytest.mark.slow
def test_the_transfer_adapter_moves_only_transfers_and_is_refitted_with_the_bar_adapter(
    bar_dropout_trained, nottingham_40, tmp_path):
  """A tiny bar-dropout model with the bar adapter, then config.post.transfer_adapter_steps: the
  VAE's parameters are untouched, the fitted adapter differs from the bar adapter it started
  from, and only a transfer (another emotion than the tune's own) decodes through it, with the
  tune's bars kept: prior samples and reconstructions are bit-equal with it and without. Its
  loss falls on real tunes; a second call redoes nothing; a new bar adapter drops it and it is
  fitted again."""
  from hrnnvae import transfer_adapter
  config, run = _tiny_bar_dropout_run(bar_dropout_trained, nottingham_40[0], tmp_path)
  config.post.bar_adapter_steps, config.post.bar_adapter_dim = 10, 8
  post_training.run_stages(config, run, command="c")
  export = run / "export"
  without = Sampler.load(export)
  config.post.transfer_adapter_steps = 30
  config.post.transfer_adapter_learning_rate = 1e-2
  config.sample.transfer_keep = 1.0  # the fit decodes at the model's keep bias, set first
  done = post_training.run_stages(config, run, command="c")
  assert done["transfer_adapter"].startswith("done"), done
  report = json.loads((export / "config.json").read_text())[post_training.TRANSFER_FIT_KEY]
  assert report["steps"] == 30 and report["transfer_keep"] == 1.0
  assert report["bucket_by_bar"] is False  # batched as the tiny config trains: one bucket
  assert report["train_last_10_steps"]["loss"] < report["train_first_10_steps"]["loss"]
  for measured in ("validation_transfer_before", "validation_transfer_after"):
    assert 0.0 <= report[measured]["judge_agreement"] <= 1.0
    assert 0.0 < report[measured]["steps_kept"] <= 1.0
  fitted = Sampler.load(export)
  assert fitted.has_transfer_adapter and fitted.use_transfer_adapter
  assert not without.has_transfer_adapter
  jax.tree.map(np.testing.assert_array_equal, fitted.params["vae"], without.params["vae"])
  start = transfer_adapter.bar_adapter_of(without.params["vae"])
  moved = jax.tree.map(lambda a, b: not np.array_equal(a, b), start,
                       dict(fitted.params[transfer_adapter.PARAMS_KEY]))
  assert all(jax.tree.leaves(moved["adapter_out"]))

  for sampler in (fitted, without):
    sampler.use_prior("standard")
  np.testing.assert_array_equal(fitted.sample([0, 1, 2, 3], 2, seed=0, candidates=1)[0].events,
                                without.sample([0, 1, 2, 3], 2, seed=0, candidates=1)[0].events)
  arrays = np.load(nottingham_40[0] / "examples.npz")
  tune = arrays["events"][0][:arrays["lengths"][0]]
  meter = tuple(fitted.facts["time_signature"])
  np.testing.assert_array_equal(fitted.reconstruct(tune, meter, [None], seed=0)[0],
                                without.reconstruct(tune, meter, [None], seed=0)[0])
  # A transfer keeps the tune's bars and decodes through the transfer adapter.
  mu = fitted.encode(tune, meter)[None]
  own, other = np.array([0]), np.array([2])
  np.testing.assert_array_equal(fitted.transfer_latents(mu, own, other), mu)
  assert not without.transfer_latents(mu, own, other)[0, fitted.hp.latent_dim:].any()
  steps = len(tune)
  through = fitted.decode(mu, other, steps, seed=0, transfer=True, emotion_guidance=1.0)
  bar_adapter_decode = fitted.decode(mu, other, steps, seed=0, emotion_guidance=1.0)
  assert (through != bar_adapter_decode).any()
  fitted.steer(use_transfer_adapter=False)
  np.testing.assert_array_equal(fitted.decode(mu, other, steps, seed=0, transfer=True,
                                              emotion_guidance=1.0), bar_adapter_decode)
  with pytest.raises(SampleError, match="no transfer adapter"):
    without.steer(use_transfer_adapter=True)

  again = post_training.run_stages(config, run, command="c")
  assert again["transfer_adapter"] == "the transfer adapter already fitted in this export"
  config.post.bar_adapter_steps = 5  # a new bar adapter: the transfer adapter is fitted again
  refit = post_training.run_stages(config, run, command="c")
  assert refit["bar_adapter"].startswith("done") and refit["transfer_adapter"].startswith("done")

  # An adapter that also reads the tune it moves (config.post.transfer_adapter_tune_steps): a
  # new option, so a new fit; transfers read the tune they are given, nothing else moves.
  # It is fitted decoding at its own keep bias (config.post.transfer_adapter_fit_keep), while
  # the model's transfers go on decoding at the model's.
  config.post.transfer_adapter_tune_steps, config.post.transfer_adapter_fit_keep = 2, 0.5
  reading_done = post_training.run_stages(config, run, command="c")
  assert reading_done["transfer_adapter"].startswith("done"), reading_done
  reading = Sampler.load(export)
  adapter = reading.params[transfer_adapter.PARAMS_KEY]
  assert transfer_adapter.tune_steps_of(adapter) == 2
  assert np.asarray(adapter["adapter_tune"]["kernel"]).any()  # it learned to read the tune
  report = json.loads((export / "config.json").read_text())[post_training.TRANSFER_FIT_KEY]
  assert report["tune_steps"] == 2 and report["asked"]["tune_steps"] == 2
  assert report["transfer_keep"] == report["asked"]["transfer_keep"] == 0.5
  assert reading.transfer_keep == 1.0
  reading.use_prior("standard")
  np.testing.assert_array_equal(reading.sample([0, 1, 2, 3], 2, seed=0, candidates=1)[0].events,
                                without.sample([0, 1, 2, 3], 2, seed=0, candidates=1)[0].events)
  mu = reading.encode(tune, meter)[None]
  with pytest.raises(SampleError, match="reads the tune"):
    reading.decode(mu, other, steps, seed=0, transfer=True, emotion_guidance=1.0)
  read = lambda kept_tune, seed: reading.decode(mu, other, steps, seed=seed, transfer=True,
                                                emotion_guidance=1.0, keep=kept_tune[None],
                                                keep_bias=0)
  shifted = np.where(tune >= events_lib.FIRST_PITCH_EVENT + 2, tune - 2, tune)
  # The same latents and noise: what it reads is the tune (a few seeds, as a tiny fit moves the
  # decode's probabilities a little and a sampled event only where its draw sits near a boundary).
  assert any((read(tune, seed) != read(shifted, seed)).any() for seed in range(8))
  assert post_training.run_stages(config, run, command="c")["transfer_adapter"] == (
      "the transfer adapter already fitted in this export")

  # A second leg (config.post.transfer_adapter_refine_*) goes on from the fitted adapter; a new
  # first leg redoes it.
  first_leg = reading.params[transfer_adapter.PARAMS_KEY]
  config.post.transfer_adapter_refine_steps, config.post.transfer_adapter_refine_keep = 10, 1.5
  refined_done = post_training.run_stages(config, run, command="c")
  assert refined_done["transfer_adapter"] == "the transfer adapter already fitted in this export"
  assert refined_done["transfer_adapter_refine"].startswith("done")
  record = json.loads((export / "config.json").read_text())[post_training.TRANSFER_FIT_KEY]
  refine = record[post_training.TRANSFER_REFINE_KEY]
  assert refine["steps"] == 10 and refine["transfer_keep"] == 1.5 and record["steps"] == 30
  assert refine["validation_transfer_before"] == record["validation_transfer_after"]
  refined = Sampler.load(export).params[transfer_adapter.PARAMS_KEY]
  assert transfer_adapter.tune_steps_of(refined) == 2
  assert not np.array_equal(refined["adapter_out"]["kernel"], first_leg["adapter_out"]["kernel"])
  again = post_training.run_stages(config, run, command="c")
  assert again["transfer_adapter_refine"] == "the transfer adapter already refined in this export"
  config.post.transfer_adapter_steps = 20
  both = post_training.run_stages(config, run, command="c")
  assert both["transfer_adapter"].startswith("done")
  assert both["transfer_adapter_refine"].startswith("done")
  config.post.transfer_adapter_refine_steps = 0  # no second leg asked: the first is fitted again
  assert post_training.run_stages(config, run, command="c")["transfer_adapter"].startswith("done")
  record = json.loads((export / "config.json").read_text())[post_training.TRANSFER_FIT_KEY]
  assert post_training.TRANSFER_REFINE_KEY not in record


def test_a_transfer_fit_asks_its_own_keep_bias_or_the_models():
  description = {"sampling": {"temperature": 0.7, "top_p": 0.95, "transfer_keep": 2.5}}
  models = post_training.transfer_fit_asked(description, 10, 1e-3, 1.0)
  assert models["transfer_keep"] == 2.5 and "tune_steps" not in models
  own = post_training.transfer_fit_asked(description, 10, 1e-3, 1.0, tune_steps=2, fit_keep=2.0)
  assert own == {**models, "transfer_keep": 2.0, "tune_steps": 2}
