"""Shipped models: hrnnvae.post_training.ship, launch/ship_pretrained.py, hrnnvae.pretrained,
`hrnnvae-sample --pretrained`.

A tiny model is shipped into a temporary folder (HRNNVAE_PRETRAINED_DIR); the last test checks the
real model in hrnnvae/pretrained/nottingham/ when one has been shipped.
"""

import datetime
import hashlib
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hrnnvae import exports, post_training, pretrained
from hrnnvae.data import cache as cache_lib
from hrnnvae.data import sources as sources_lib
from hrnnvae.evaluation.scoring import likelihood_row
from hrnnvae.exports import load_export
from hrnnvae.metrics import likelihood
from hrnnvae.sample import Sampler

from conftest import OPTIMIZED

ROOT = pathlib.Path(__file__).parent.parent
PROVENANCE = {"command": "hrnnvae-train --config=configs/tiny.py", "device": "2-core CPU",
              "wall_time_s": 42.5}
SHIP_FLAGS = ("--name=nottingham", *(f"--{key}={value}" for key, value in PROVENANCE.items()))
REAL = pretrained.PACKAGE_ROOT / "nottingham"


def _ship(export, cache, out_root, *extra):
  return subprocess.run([sys.executable, str(ROOT / "launch" / "ship_pretrained.py"), f"--export={export}",
                         f"--cache={cache}", f"--out_root={out_root}", *SHIP_FLAGS, *extra],
                        capture_output=True, text=True, env=dict(os.environ, PYTHONWARNINGS="ignore"),
                        timeout=300)


def _sample_cli(pretrained_root, *args):
  env = dict(os.environ, PYTHONWARNINGS="ignore", **{pretrained.ENV_VAR: str(pretrained_root)})
  return subprocess.run([sys.executable, "-m", "hrnnvae.sample_main", *args], capture_output=True,
                        text=True, env=env, timeout=300)


@pytest.fixture(scope="session")
def small_cache(nottingham_40, tmp_path_factory):
  """nottingham_40 cut to its first 24 test windows: one batch to measure, one compile."""
  arrays, manifest = cache_lib.load(nottingham_40[0])
  keep = np.nonzero(arrays["split"] == sources_lib.SPLITS.index("test"))[0][:24]
  out = tmp_path_factory.mktemp("small_cache")
  cache_lib.save(out, {name: values if name == "piece_names" else values[keep]
                       for name, values in arrays.items()}, manifest)
  return out


@pytest.fixture(scope="session")
def shipped(tiny_workdir, small_cache, tmp_path_factory):
  """The tiny model shipped into a temporary pretrained folder (returned)."""
  out_root = tmp_path_factory.mktemp("pretrained")
  final = post_training.ship(tiny_workdir / "export", "nottingham", small_cache, out_root=out_root,
                             **PROVENANCE)
  assert final == out_root / "nottingham"
  return out_root


def manifest_prior(model_dir):
  return json.loads((model_dir / "manifest.json").read_text())["prior"]


def test_manifest_records_provenance_size_and_test_metrics(shipped, tiny_workdir, small_cache):
  model_dir = shipped / "nottingham"
  assert sorted(p.name for p in shipped.iterdir()) == ["nottingham"]  # no staging folder left
  assert sorted(p.name for p in model_dir.iterdir()) == ["config.json", "latent_prior.npz",
                                                         "manifest.json", "params.msgpack"]
  assert (model_dir / "latent_prior.npz").read_bytes() == (
      tiny_workdir / "export" / "latent_prior.npz").read_bytes()  # fitted when training ended
  assert manifest_prior(model_dir) == "fitted"
  assert (model_dir / "config.json").read_bytes() == (tiny_workdir / "export" / "config.json").read_bytes()
  manifest = json.loads((model_dir / "manifest.json").read_text())
  assert (manifest["command"], manifest["device"], manifest["wall_time_s"]) == (
      "hrnnvae-train --config=configs/tiny.py", "2-core CPU", 42.5)
  assert manifest["steps"] == json.loads((model_dir / "config.json").read_text())["step"] == 15
  assert manifest["git_commit"] is None or re.fullmatch(r"[0-9a-f]{40}", manifest["git_commit"])
  assert datetime.datetime.fromisoformat(manifest["date"]).tzinfo is not None
  params, _ = load_export(tiny_workdir / "export")
  assert manifest["parameter_count"] == sum(np.size(p) for p in jax.tree.leaves(params)) > 0
  assert manifest["size_bytes"] == sum((model_dir / name).stat().st_size
                                       for name in ("params.msgpack", "config.json",
                                                    "latent_prior.npz")) < 10_000_000
  arrays, cache_manifest = cache_lib.load(small_cache)
  assert manifest["dataset"] == cache_manifest["dataset"] == "nottingham"
  digest, melodies = pretrained.digest_of_test_split(arrays)
  assert manifest["test_split"]["sha256"] == digest and manifest["test_split"]["melodies"] == melodies > 0
  metrics = manifest["test_metrics"]
  for name in ("teacher_forced_accuracy", "sampled_accuracy"):
    assert 0.0 <= metrics[name] <= 1.0
  assert np.isfinite(metrics["cross_entropy_per_step"]) and metrics["cross_entropy_per_step"] > 0


def _strings(tree):
  if isinstance(tree, dict):
    return [text for value in tree.values() for text in _strings(value)]
  return [tree] if isinstance(tree, str) else []


def _machine_independent(manifest, *local_paths):
  """Whether no value of a manifest is or holds an absolute path (one of local_paths or any)."""
  return not any(re.search(r"(^|[\s=])(/\w|[A-Za-z]:\\)", text)
                 or any(str(path) in text for path in local_paths) for text in _strings(manifest))


def test_manifest_holds_no_path_of_the_machine(shipped, tiny_workdir, small_cache):
  manifest = json.loads((shipped / "nottingham" / "manifest.json").read_text())
  assert _machine_independent(manifest, tiny_workdir, small_cache, shipped)
  # Which export it came from, on any machine: a digest of the export's config.json.
  assert manifest["source_config_sha256"] == hashlib.sha256(
      (tiny_workdir / "export" / "config.json").read_bytes()).hexdigest()


@pytest.mark.skipif(not (REAL / pretrained.MANIFEST_FILE).is_file(), reason=f"no model shipped in {REAL}")
def test_the_shipped_nottingham_manifest_is_machine_independent_and_matches_its_files():
  real = json.loads((REAL / pretrained.MANIFEST_FILE).read_text())
  assert _machine_independent(real, ROOT)
  assert real["files"] == {name: (REAL / name).stat().st_size for name in real["files"]}
  assert real["size_bytes"] == sum(real["files"].values())
  assert sorted(real["files"]) == sorted(p.name for p in REAL.iterdir() if p.name != "manifest.json")


@pytest.mark.parametrize("name", ["nottingham", "jsb_chorales"])
def test_each_shipped_models_config_records_the_command_and_stages_that_made_it(name):
  """What a shipped config.json says made the model is what its manifest says: the command, and
  the post-training stages its fits record (a later call that only ran those stages writes its
  own post section; post_training._record_config_sections)."""
  folder = pretrained.pretrained_dir(name)
  manifest = json.loads((folder / pretrained.MANIFEST_FILE).read_text())
  description = json.loads((folder / "config.json").read_text())
  post = description["config"]["post"]
  assert post["command"] == manifest["command"] and post["ship_as"] == name
  assert post["bar_adapter_steps"] == description["bar_adapter_fit"]["steps"]
  assert post["transfer_adapter_steps"] == description["transfer_adapter_fit"]["steps"]
  assert post["critic_fit_steps"] == description["realism_critic_fit"]["steps"]
  assert post["emotion_fit_steps"] == description["emotion_classifier_fit"]["steps"]
  assert description["config"]["sample"]["candidates"] == description["sampling"]["candidates"]


def test_shipped_model_loads_and_reproduces_its_test_accuracy(shipped, tiny_workdir, small_cache,
                                                              monkeypatch):
  monkeypatch.setenv(pretrained.ENV_VAR, str(shipped))
  assert pretrained.available() == ["nottingham"]
  assert pretrained.pretrained_dir("nottingham") == shipped / "nottingham"
  sampler = pretrained.load("nottingham")
  assert sampler.prior_kind == "fitted"  # samples draw z from the shipped latent prior
  exported, _ = load_export(tiny_workdir / "export")
  jax.tree.map(np.testing.assert_array_equal, jax.device_get(sampler.params), exported)
  manifest = pretrained.manifest("nottingham")
  arrays, _ = cache_lib.load(small_cache)
  row = likelihood_row(sampler, arrays)
  for name in ("teacher_forced_accuracy", "sampled_accuracy", "cross_entropy_per_step"):
    assert row[name] == pytest.approx(manifest["test_metrics"][name], abs=1e-6), name
  # The real model's test below measures this figure alone; it must be the same figure.
  assert _teacher_forced_accuracy(sampler, arrays) == pytest.approx(row["teacher_forced_accuracy"],
                                                                    abs=1e-6)


def test_cli_samples_from_the_shipped_model(shipped, tmp_path):
  result = _sample_cli(shipped, "--pretrained=nottingham", "--emotion=happy,sad", "--bars=2",
                       "--noaudio", f"--output_dir={tmp_path}")
  assert result.returncode == 0, result.stderr[-2000:]
  manifest = json.loads((tmp_path / "manifest.json").read_text())
  assert manifest["pretrained"] == "nottingham" and manifest["checkpoint_step"] == 15
  assert [m["emotion"] for m in manifest["melodies"]] == ["happy", "sad"]
  midi = sorted(tmp_path.glob("*.mid"))
  assert len(midi) == 2 and all(path.stat().st_size > 0 for path in midi)


@pytest.mark.parametrize("case", ["both", "neither", "unknown", "none_shipped"])
def test_cli_pretrained_errors_are_one_line(shipped, tiny_workdir, tmp_path, case):
  root, args = shipped, []
  if case == "both":
    args, message = [f"--workdir={tiny_workdir}", "--pretrained=nottingham"], "exclude each other"
  elif case == "neither":
    message = "pass --workdir=DIR (the folder `hrnnvae-train --workdir=...` wrote), --checkpoint"
  elif case == "unknown":
    args, message = ["--pretrained=jazz"], "unknown pretrained model 'jazz': available: nottingham"
  else:
    root, args = tmp_path / "empty", ["--pretrained=nottingham"]
    message = "no pretrained model has been shipped"
  result = _sample_cli(root, *args, f"--output_dir={tmp_path / 'out'}")
  assert result.returncode == 2
  lines = [line for line in result.stderr.splitlines() if line.startswith("hrnnvae-sample:")]
  assert len(lines) == 1 and message in lines[0], result.stderr[-1500:]
  if case == "none_shipped":
    assert "launch/ship_pretrained.py" in lines[0]


def test_ship_refuses_a_model_over_the_size_limit(tiny_workdir, small_cache, tmp_path):
  result = _ship(tiny_workdir / "export", small_cache, tmp_path / "pretrained", "--max_bytes=1000")
  assert result.returncode == 2
  lines = [line for line in result.stderr.splitlines() if line.startswith("ship_pretrained:")]
  assert len(lines) == 1 and "over the 1,000-byte limit" in lines[0], result.stderr[-1500:]
  assert not (tmp_path / "pretrained").exists()


def test_shipping_again_keeps_the_test_figures_unless_what_they_read_changed(
    tiny_workdir, small_cache, tmp_path, monkeypatch):
  """A model shipped again under its name after only E (or the critic) or the training config's
  record changed keeps the manifest's test figures without measuring; new VAE weights, new
  sampling settings or another folder measure again."""
  measured = []

  def measure(model_dir, arrays, log):
    measured.append(model_dir)
    return {"teacher_forced_accuracy": 0.5 + 0.01 * len(measured)}

  monkeypatch.setattr(post_training, "_measure", measure)
  export = tmp_path / "export"
  shutil.copytree(tiny_workdir / "export", export)
  params, description = load_export(export)

  prior = (export / "latent_prior.npz").read_bytes()

  def rewrite(params, description):  # as a stage does: the fitted prior stays
    exports.write_export(export, params, description)
    (export / "latent_prior.npz").write_bytes(prior)

  def ship(name="nottingham"):
    final = post_training.ship(export, name, small_cache, out_root=tmp_path / "pretrained",
                               **PROVENANCE)
    return json.loads((final / "manifest.json").read_text())

  first = ship()
  assert len(measured) == 1 and first["test_metrics"] == {"teacher_forced_accuracy": 0.51}
  changed_e = jax.tree.map(lambda leaf: leaf + 1.0, params["emotion"])
  rewrite({**params, "emotion": changed_e},
          {**description, "config": {**description["config"], "note": "refit"}})
  kept = ship()
  assert len(measured) == 1 and kept["test_metrics"] == first["test_metrics"]
  assert kept["test_metrics_key"] == first["test_metrics_key"]
  shipped_e = Sampler.load(tmp_path / "pretrained" / "nottingham").params["emotion"]
  jax.tree.map(np.testing.assert_array_equal, shipped_e, jax.device_get(changed_e))  # E's new fit

  post_training.set_sampling(export, {"attention_bars": 2}, chosen_by="a test")
  assert ship()["test_metrics"] == {"teacher_forced_accuracy": 0.52} and len(measured) == 2
  _, description = load_export(export)
  rewrite({**params, "vae": jax.tree.map(lambda leaf: leaf * 0.5, params["vae"])}, description)
  assert ship()["test_metrics"] == {"teacher_forced_accuracy": 0.53} and len(measured) == 3
  ship("another")
  assert len(measured) == 4
  (export / "latent_prior.npz").unlink()  # the standard prior: another prior z
  assert ship("another")["prior"] == "standard" and len(measured) == 5


def test_ship_can_set_the_models_sampling_steers(tiny_workdir, small_cache, tmp_path):
  """--emotion_guidance/--transfer_shift become the shipped config.json's sampling facts, which
  the loaded Sampler uses by default; the parameters stay the export's."""
  result = _ship(tiny_workdir / "export", small_cache, tmp_path, "--emotion_guidance=2.5",
                 "--transfer_shift=1")
  assert result.returncode == 0, result.stderr[-3000:]
  assert f"shipped {tmp_path / 'nottingham'} (" in result.stdout
  description = json.loads((tmp_path / "nottingham" / "config.json").read_text())
  exported_description = json.loads((tiny_workdir / "export" / "config.json").read_text())
  assert description["sampling"] == {**exports.sampling_settings(exported_description),
                                     "emotion_guidance": 2.5,
                                     "transfer_shift": 1.0}  # the rest (temperature) kept
  sampler = Sampler.load(tmp_path / "nottingham")
  assert (sampler.emotion_guidance, sampler.transfer_shift) == (2.5, 1.0)
  exported = Sampler.load(tiny_workdir / "export")
  assert (exported.emotion_guidance, exported.transfer_shift) == (1.0, 0.0)
  assert all(jax.tree.leaves(jax.tree.map(np.array_equal, sampler.params["vae"],
                                          exported.params["vae"])))


def test_chosen_sampling_settings_become_the_models_own_and_the_manifest_says_so(shipped,
                                                                                tmp_path):
  """post_training.set_sampling on a copy of a shipped model: Sampler reads the new temperature
  and top_p, the manifest's sizes match the files again and it records the change; the
  parameters are untouched; an unknown setting is refused."""
  model = tmp_path / "nottingham"
  shutil.copytree(shipped / "nottingham", model)
  before = Sampler.load(model)
  after = post_training.set_sampling(model, {"temperature": 0.7, "top_p": 0.95},
                                     chosen_by="a test")
  assert after == {**exports.sampling_settings(before.description), "temperature": 0.7,
                   "top_p": 0.95}
  sampler = Sampler.load(model)
  assert (sampler.temperature, sampler.top_p) == (0.7, 0.95)
  assert (sampler.emotion_guidance, sampler.transfer_shift) == (before.emotion_guidance,
                                                                before.transfer_shift)
  manifest = json.loads((model / pretrained.MANIFEST_FILE).read_text())
  assert manifest["files"] == {name: (model / name).stat().st_size for name in manifest["files"]}
  assert manifest["size_bytes"] == sum(manifest["files"].values())
  change = manifest["sampling_changes"][-1]
  assert change["chosen_by"] == "a test" and change["after"] == after
  assert change["before"] == exports.sampling_settings(before.description)
  assert all(jax.tree.leaves(jax.tree.map(np.array_equal, sampler.params, before.params)))
  with pytest.raises(post_training.PostTrainingError, match="unknown sampling settings"):
    post_training.set_sampling(model, {"heat": 1.0}, chosen_by="a test")


def test_package_data_carries_the_shipped_models(shipped, tmp_path):
  """setup.cfg's package_data puts hrnnvae/pretrained/<name>/* into what a wheel installs."""
  tree = tmp_path / "src"
  shutil.copytree(ROOT / "hrnnvae", tree / "hrnnvae", ignore=shutil.ignore_patterns("__pycache__"))
  for name in ("setup.cfg", "pyproject.toml", "README.md"):
    shutil.copy(ROOT / name, tree / name)
  shutil.rmtree(tree / "hrnnvae" / "pretrained" / "nottingham", ignore_errors=True)
  shutil.copytree(shipped / "nottingham", tree / "hrnnvae" / "pretrained" / "nottingham")
  result = subprocess.run([sys.executable, "-c", "import setuptools; setuptools.setup()", "-q",
                           "build_py", f"--build-lib={tmp_path / 'lib'}"], cwd=tree,
                          capture_output=True, text=True, timeout=120)
  assert result.returncode == 0, result.stderr[-2000:]
  built = tmp_path / "lib" / "hrnnvae" / "pretrained"
  assert sorted(p.name for p in (built / "nottingham").iterdir()) == [
      "config.json", "latent_prior.npz", "manifest.json", "params.msgpack"]
  assert (built / "__init__.py").is_file()


@pytest.mark.slow
@pytest.mark.skipif(not (REAL / pretrained.MANIFEST_FILE).is_file(),
                    reason=f"no model shipped in {REAL} yet (launch/ship_pretrained.py ships one)")
def test_the_shipped_nottingham_model_reproduces_its_manifest(nottingham, monkeypatch):
  monkeypatch.delenv(pretrained.ENV_VAR, raising=False)
  manifest = pretrained.manifest("nottingham")
  _, arrays, cache_manifest = nottingham
  assert manifest["dataset"] == cache_manifest["dataset"]
  digest, melodies = pretrained.digest_of_test_split(arrays)
  assert (digest, melodies) == (manifest["test_split"]["sha256"], manifest["test_split"]["melodies"]), (
      "the Nottingham test split prepared from $HRNNVAE_DATASETS differs from the one the shipped "
      "model was measured on")
  assert manifest["size_bytes"] <= 10_000_000
  accuracy = _teacher_forced_accuracy(pretrained.load("nottingham"), arrays)
  assert accuracy == pytest.approx(manifest["test_metrics"]["teacher_forced_accuracy"], abs=1e-4)


def _teacher_forced_accuracy(sampler, arrays, batch_size=64):
  """likelihood_row's teacher_forced_accuracy (argmax at z = mu) alone: about 40 s for the real
  model on 2 CPU cores, where the whole row (importance sampling, greedy decodes) takes 8 min."""
  rows = np.nonzero((arrays["split"] == sources_lib.SPLITS.index("test")) & (arrays["transposition"] == 0))[0]
  sums = jax.jit(lambda params, batch: likelihood.deterministic_sums(sampler.vae, params, batch),
                 compiler_options=OPTIMIZED)  # a real model's long program
  correct = steps = 0
  for start in range(0, len(rows), batch_size):
    chunk = rows[start:start + batch_size]
    batch = {name: jnp.asarray(arrays[name][chunk], jnp.int32)
             for name in ("events", "lengths", "steps_per_bar", "emotion", "start_bar")}
    result = jax.device_get(sums(sampler.params["vae"], batch))
    correct, steps = correct + float(result["correct"].sum()), steps + float(result["steps"].sum())
  return correct / steps


def test_load_model_takes_a_run_an_export_or_a_shipped_name(shipped, tiny_workdir, monkeypatch):
  """pretrained.load_model, which the launch scripts' --models use: a run's folder and its
  export/ load the same model; a name loads the shipped one; an unknown name says what exists."""
  monkeypatch.setenv(pretrained.ENV_VAR, str(shipped))
  from_run, from_export = (pretrained.load_model(p) for p in (tiny_workdir, tiny_workdir / "export"))
  assert from_run.description == from_export.description
  assert pretrained.load_model("nottingham").description["step"] == from_run.description["step"]
  with pytest.raises(Exception, match="available: nottingham"):
    pretrained.load_model("no_such_model")
