"""The command-line tools as a new user meets them (issue 11's table, row by row).

Each mistake must give exit 2, exactly one line `hrnnvae-X: ...` that names the fix, and leave
nothing written. The models are tiny random-weight exports (written in the shipped-model format:
config.json + params.msgpack), so the suite needs no training and runs in CI.
"""

from __future__ import annotations

import json
import os
import pathlib
import runpy
import signal
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import serialization
from note_seq import midi_io, music_pb2
from tool_driver import ToolDriver, user_env

from hrnnvae import models as models_lib
from hrnnvae.data import events as events_lib
from hrnnvae.models.critics import SequenceClassifier
from hrnnvae.models.hparams import ModelHParams

ROOT = pathlib.Path(__file__).parent.parent
TOOLS = {"hrnnvae-data": "hrnnvae.data.main", "hrnnvae-train": "hrnnvae.train.main",
         "hrnnvae-eval": "hrnnvae.eval_main", "hrnnvae-sample": "hrnnvae.sample_main",
         "hrnnvae-bench": "hrnnvae.bench", "hrnnvae-listen": "hrnnvae.listen_main"}


_DRIVERS: dict[str, ToolDriver] = {}


@pytest.fixture(scope="session", autouse=True)
def _close_drivers():
  yield
  while _DRIVERS:
    _DRIVERS.popitem()[1].close()


def run_tool(tool: str, *args, cwd=None, real: bool = False) -> subprocess.CompletedProcess:
  """`tool args` as a user runs it (warnings on). real: in a process of its own, for what is
  about start-up itself; otherwise in the tool's long-lived driver (tool_driver.py), which
  captures the same exit status, stdout and stderr without paying start-up for every case."""
  if real:
    return subprocess.run([sys.executable, "-m", TOOLS[tool], *map(str, args)], capture_output=True,
                          text=True, env=user_env(), timeout=300, cwd=cwd)
  if tool not in _DRIVERS:
    _DRIVERS[tool] = ToolDriver(TOOLS[tool], user_env())
  return _DRIVERS[tool](tool, list(args), cwd)


def one_error_line(result: subprocess.CompletedProcess, tool: str, *needles: str) -> str:
  """The single `tool: ...` line of a refused run (exit 2), checked to contain each needle."""
  assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
  lines = [line for line in result.stderr.splitlines() if line.strip()]
  assert len(lines) == 1 and lines[0].startswith(f"{tool}: "), result.stderr[-2000:]
  for needle in needles:
    assert needle in lines[0], lines[0]
  return lines[0]


def random_export(folder: pathlib.Path, variant: str | None = None, meter=(4, 4)) -> pathlib.Path:
  """A tiny random-weight model in the shipped format (Sampler.load reads it like an export/)."""
  config = runpy.run_path(str(ROOT / "configs" / "tiny.py"))["get_config"](variant)
  steps_per_bar = events_lib.steps_per_bar(*meter)
  hp = ModelHParams.from_config(config.model, 384, 8, 24, 16)  # Nottingham's shape: 16 bars
  vae = models_lib.build(hp).init(
      jax.random.key(0), jnp.zeros((1, 8), jnp.int32), jnp.full((1,), 8), jnp.full((1,), 4),
      jnp.zeros((1,), jnp.int32), jax.random.key(1))["params"]
  emotion = SequenceClassifier(hp.num_emotions, hp.classifier_channels).init(
      jax.random.key(2), jnp.zeros((1, 8, hp.num_classes)), jnp.ones((1, 8), bool))["params"]
  facts = {"dataset": "nottingham", "steps_per_bar": steps_per_bar, "time_signature": list(meter),
           "qpm": 120.0, "max_bars": 16, "emotions": ["happy", "tense", "sad", "calm"],
           "arousal_thresholds": {"median_note_density": 4.0, "median_mean_abs_interval": 2.0}}
  folder.mkdir(parents=True)
  (folder / "params.msgpack").write_bytes(serialization.msgpack_serialize(
      jax.device_get({"vae": vae, "emotion": emotion})))
  (folder / "config.json").write_text(json.dumps(
      {"config": config.to_dict(), "model": hp.__dict__, "data": facts, "step": 0}, default=str))
  return folder


@pytest.fixture(scope="session")
def model(tmp_path_factory) -> pathlib.Path:
  """A run folder RUN with RUN/export/ holding the tiny random model."""
  run = tmp_path_factory.mktemp("run")
  random_export(run / "export")
  return run


@pytest.fixture(scope="session")
def lstm_model(tmp_path_factory) -> pathlib.Path:
  run = tmp_path_factory.mktemp("lstm_run")
  random_export(run / "export", "lstm_lm")
  return run


def write_tune(path: pathlib.Path, meter=(4, 4), bars: int = 4) -> pathlib.Path:
  """A scale tune on 8th notes in `meter`, as a MIDI file."""
  sequence = music_pb2.NoteSequence(ticks_per_quarter=220)
  sequence.tempos.add(qpm=120)
  sequence.time_signatures.add(numerator=meter[0], denominator=meter[1])
  eighths = bars * meter[0] * 8 // meter[1]
  for i in range(eighths):
    sequence.notes.add(pitch=60 + [0, 2, 4, 5, 7, 9, 11, 12][i % 8], start_time=i * 0.25,
                       end_time=i * 0.25 + 0.24, velocity=90)
  sequence.total_time = eighths * 0.25
  midi_io.note_sequence_to_midi_file(sequence, str(path))
  return path


# --- 1. help that helps ---------------------------------------------------------------------

@pytest.mark.parametrize("tool", sorted(TOOLS))
def test_help_shows_the_tools_flags_and_examples(tool):
  result = run_tool(tool, "--help", real=True)  # one real start of each tool
  assert result.returncode == 0, result.stderr[-1500:]
  text = result.stdout
  assert f"{tool} flags:" in text
  examples = [line for line in text.splitlines() if line.strip().startswith(tool + " ")]
  assert len(examples) >= 2, text
  assert "(default: " in text
  own = {"hrnnvae-sample": "--output_dir", "hrnnvae-train": "--workdir", "hrnnvae-eval": "--workdirs",
         "hrnnvae-data": "--transpose", "hrnnvae-bench": "--batch_sizes",
         "hrnnvae-listen": "--clips_per_side"}[tool]
  assert own in text
  assert "xla_bridge" not in result.stderr and "ffmpeg" not in result.stderr


@pytest.mark.slow
def test_start_up_is_quiet_and_verbosity_brings_the_platform_line_back(model, tmp_path):
  result = run_tool("hrnnvae-sample", f"--workdir={model}", "--bars=1", "--noaudio",
                    f"--output_dir={tmp_path / 'quiet'}", real=True)
  assert result.returncode == 0, result.stderr[-2000:]
  assert "ffmpeg" not in result.stderr and "libtpu" not in result.stderr
  assert all(line.startswith("hrnnvae-sample: ") for line in result.stderr.splitlines()), result.stderr
  loud = run_tool("hrnnvae-sample", f"--workdir={model}", "--bars=1", "--noaudio", "--verbosity=1",
                  f"--output_dir={tmp_path / 'loud'}", real=True)
  assert loud.returncode == 0
  if jax.default_backend() == "cpu" and not os.environ.get("JAX_PLATFORMS"):  # JAX probes for a TPU
    assert "Unable to initialize backend" in loud.stderr


# --- 3. mistakes caught before the work starts, nothing written -----------------------------

@pytest.mark.parametrize("case, needle", [
    ("tempo_negative", "--tempo must be at least 10"),
    ("tempo_zero", "--tempo must be at least 10"),
    ("temperature", "--temperature must be above 0"),
    ("top_p", "--top_p must be above 0 and at most 1"),
    ("repeat_penalty", "--repeat_penalty must be at least 1 and at most 100"),
    ("short_note_penalty", "--short_note_penalty must be at least 1 and at most 100"),
    ("bars", "--bars must be at least 1"),
    ("transfer_keep", "--transfer_keep must be at least 0 and at most 20"),
    ("transfer_edits", "--transfer_edits must be at least 0 and at most 1"),
    ("num_outputs", "--num_outputs must be at least 1"),
    ("emotion", "unknown emotion 'joyful'"),
    ("mode", "unknown --mode='remix'"),
    ("bad_int", "flag --bars=many"),
    ("unknown_flag", "Unknown command line flag 'colour'"),
    ("two_models", "exclude each other"),
    ("no_input", "--mode=reconstruct needs --input_midi=FILE"),
    ("missing_input", "no such file"),
    ("interpolate_one", "--num_outputs must be at least 2"),
    ("prior_missing", "has no fitted latent prior"),
    ("prior_unknown", "flag --prior=learned"),
    ("transfer_adapter_missing", "has no transfer adapter"),
])
def test_sample_flag_mistakes(model, tmp_path, case, needle):
  out = tmp_path / "out"
  args = {
      "tempo_negative": ["--tempo=-60"], "tempo_zero": ["--tempo=0"],
      "temperature": ["--temperature=0"], "top_p": ["--top_p=1.5"], "bars": ["--bars=0"],
      "repeat_penalty": ["--repeat_penalty=0.5"], "short_note_penalty": ["--short_note_penalty=0"],
      "num_outputs": ["--num_outputs=0"], "transfer_keep": ["--transfer_keep=25"],
      "transfer_edits": ["--transfer_edits=2"],
      "emotion": ["--emotion=joyful"], "mode": ["--mode=remix"], "bad_int": ["--bars=many"],
      "unknown_flag": ["--colour=red"], "two_models": ["--pretrained=nottingham"],
      "no_input": ["--mode=reconstruct"],
      "missing_input": ["--mode=reconstruct", f"--input_midi={tmp_path / 'nope.mid'}"],
      "interpolate_one": ["--mode=interpolate", "--num_outputs=1", f"--input_midi_1={tmp_path}/a.mid",
                          f"--input_midi_2={tmp_path}/b.mid"],
      "prior_missing": ["--prior=fitted"], "prior_unknown": ["--prior=learned"],
      "transfer_adapter_missing": ["--transfer_adapter"],
  }[case]
  one_error_line(run_tool("hrnnvae-sample", f"--workdir={model}", *args, f"--output_dir={out}"),
                 "hrnnvae-sample", needle)
  assert not out.exists()


def test_output_dir_that_is_a_file_is_refused_before_sampling(model, tmp_path):
  target = tmp_path / "taken.txt"
  target.write_text("mine")
  one_error_line(run_tool("hrnnvae-sample", f"--workdir={model}", f"--output_dir={target}"),
                 "hrnnvae-sample", "is a file, not a folder")
  one_error_line(run_tool("hrnnvae-sample", f"--workdir={model}", f"--output_dir={target}/sub"),
                 "hrnnvae-sample", "lies under the file")
  assert target.read_text() == "mine" and list(tmp_path.iterdir()) == [target]


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                    reason="root writes into read-only folders")
def test_read_only_output_dir_is_refused_before_sampling(model, tmp_path):
  locked = tmp_path / "locked"
  locked.mkdir()
  locked.chmod(0o500)
  try:
    one_error_line(run_tool("hrnnvae-sample", f"--workdir={model}", f"--output_dir={locked}/out"),
                   "hrnnvae-sample", "is not writable")
  finally:
    locked.chmod(0o700)


def test_a_model_without_an_encoder_cannot_reconstruct(lstm_model, tmp_path):
  tune = write_tune(tmp_path / "tune.mid")
  out = tmp_path / "out"
  one_error_line(run_tool("hrnnvae-sample", f"--workdir={lstm_model}", "--mode=reconstruct",
                          f"--input_midi={tune}", f"--output_dir={out}"),
                 "hrnnvae-sample", "lstm_lm model, which has no encoder")
  assert not out.exists()
  sampled = run_tool("hrnnvae-sample", f"--workdir={lstm_model}", "--bars=1", "--noaudio",
                     f"--output_dir={out}")
  assert sampled.returncode == 0, sampled.stderr[-1500:]


def test_no_model_named_says_how_to_get_one(tmp_path):
  line = one_error_line(run_tool("hrnnvae-sample", f"--output_dir={tmp_path / 'out'}"),
                        "hrnnvae-sample", "--workdir=DIR", "--pretrained=NAME")
  assert "--checkpoint" in line


# --- 4. nothing half-written, nothing stale -------------------------------------------------

def test_sampling_twice_into_one_folder_needs_overwrite_and_the_manifest_describes_the_folder(
    model, tmp_path):
  out = tmp_path / "out"
  first = run_tool("hrnnvae-sample", f"--workdir={model}", "--emotion=happy,sad", "--bars=1",
                   "--noaudio", f"--output_dir={out}")
  assert first.returncode == 0, first.stderr[-1500:]
  before = sorted(p.name for p in out.iterdir())
  one_error_line(run_tool("hrnnvae-sample", f"--workdir={model}", "--bars=1", f"--output_dir={out}"),
                 "hrnnvae-sample", "--overwrite")
  assert sorted(p.name for p in out.iterdir()) == before
  again = run_tool("hrnnvae-sample", f"--workdir={model}", "--emotion=calm", "--bars=1", "--noaudio",
                   "--overwrite", f"--output_dir={out}")
  assert again.returncode == 0, again.stderr[-1500:]
  manifest = json.loads((out / "manifest.json").read_text())
  listed = {name for melody in manifest["melodies"] for name in melody["files"]} | {"manifest.json"}
  assert {p.name for p in out.iterdir()} == listed
  assert [m["emotion"] for m in manifest["melodies"]] == ["calm"]
  assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging left over


def test_overwrite_never_deletes_files_the_tool_did_not_write(model, tmp_path):
  out = tmp_path / "mine"
  out.mkdir()
  (out / "notes.txt").write_text("keep me")
  one_error_line(run_tool("hrnnvae-sample", f"--workdir={model}", "--overwrite",
                          f"--output_dir={out}"), "hrnnvae-sample", "did not write")
  assert (out / "notes.txt").read_text() == "keep me"


def test_a_failure_while_writing_leaves_nothing(tmp_path):
  from hrnnvae import cli
  out = tmp_path / "deep" / "out"
  with pytest.raises(RuntimeError):
    with cli.staged_output_dir(out) as stage:
      (stage / "half.mid").write_bytes(b"MThd")
      raise RuntimeError("disk full")
  assert list(tmp_path.iterdir()) == []


# --- 5. Magenta's conventions ---------------------------------------------------------------

def test_the_export_folder_itself_and_checkpoint_are_accepted(model, tmp_path):
  for flag in (f"--workdir={model / 'export'}", f"--checkpoint={model / 'export'}",
               f"--checkpoint={model}"):
    out = tmp_path / str(abs(hash(flag)))
    result = run_tool("hrnnvae-sample", flag, "--bars=1", "--noaudio", f"--output_dir={out}")
    assert result.returncode == 0, (flag, result.stderr[-1500:])
    assert (out / "manifest.json").is_file()


@pytest.mark.parametrize("meter", [(6, 8), (3, 4)])
def test_reconstruct_and_interpolate_keep_the_inputs_meter(model, tmp_path, meter):
  tune = write_tune(tmp_path / "tune.mid", meter)
  other = write_tune(tmp_path / "other.mid", meter, bars=3)
  spb = events_lib.steps_per_bar(*meter)
  for mode, args in (("reconstruct", [f"--input_midi={tune}", "--num_outputs=2"]),
                     ("interpolate", [f"--input_midi_1={tune}", f"--input_midi_2={other}",
                                      "--num_outputs=3"])):
    out = tmp_path / mode
    result = run_tool("hrnnvae-sample", f"--workdir={model}", f"--mode={mode}", *args, "--noaudio",
                      f"--output_dir={out}")
    assert result.returncode == 0, result.stderr[-1500:]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["time_signature"] == list(meter)
    assert len(manifest["melodies"]) == (2 if mode == "reconstruct" else 3)  # --num_outputs
    for melody in manifest["melodies"]:
      assert melody["steps"] == 4 * spb
      parsed = midi_io.midi_file_to_note_sequence(str(out / melody["files"][0]))
      assert (parsed.time_signatures[0].numerator, parsed.time_signatures[0].denominator) == meter


def test_two_reconstructions_draw_their_own_noise(model, tmp_path):
  from hrnnvae import melody_io
  from hrnnvae.sample import Sampler
  sampler = Sampler.load(model / "export")
  events, meter = melody_io.read_melody(write_tune(tmp_path / "tune.mid"))
  first, second = sampler.reconstruct(events, meter, [0, 0], seed=0, temperature=1.0)
  assert not np.array_equal(first, second)
  again = sampler.reconstruct(events, meter, [0], seed=0, temperature=1.0)[0]
  np.testing.assert_array_equal(first, again)  # output 0 is what a single request gives


# --- hrnnvae-eval ---------------------------------------------------------------------------

@pytest.fixture(scope="session")
def small_cache(tmp_path_factory, datasets_root):
  """12 Nottingham tunes: a cache whose test split is empty."""
  out = tmp_path_factory.mktemp("cache12")
  result = run_tool("hrnnvae-data", "prepare", "--dataset=nottingham",
                    f"--source={datasets_root / 'nottingham'}", f"--out={out}", "--limit=12")
  assert result.returncode == 0, result.stderr[-2000:]
  return out, result


def test_prepare_warns_when_a_split_is_empty(small_cache):
  _, result = small_cache
  warnings = [line for line in result.stderr.splitlines() if "warning:" in line]
  assert any("the test split is empty" in line and "without --limit" in line for line in warnings), \
      result.stderr
  assert "hrnnvae-data: nottingham: reading:" in result.stderr  # progress lines when not a terminal


def test_eval_on_a_cache_without_test_melodies_is_one_line(small_cache, model, tmp_path):
  out = tmp_path / "report"
  one_error_line(run_tool("hrnnvae-eval", f"--workdirs={model}", f"--dataset_cache={small_cache[0]}",
                          f"--out={out}"), "hrnnvae-eval", "no test melodies")
  assert not out.exists()


@pytest.mark.parametrize("case, needle", [
    ("no_model", "no exported model"), ("seeds", "--seeds must be integers"),
    ("samples", "--num_samples must be at least 1"), ("out_file", "is a file"),
    ("top_p", "--top_p must be above 0 and at most 1"),
    ("repeat_penalty", "--repeat_penalty must be at least 1 and at most 100"),
    ("short_note_penalty", "--short_note_penalty must be at least 1 and at most 100"),
])
def test_eval_flag_mistakes(model, tmp_path, case, needle):
  taken = tmp_path / "taken"
  taken.write_text("x")
  flags = {"workdirs": model, "dataset_cache": tmp_path, "out": tmp_path / "report"}
  flags.update({"no_model": {"workdirs": tmp_path / "nothing"}, "seeds": {"seeds": "a,b"},
                "samples": {"num_samples": 0}, "out_file": {"out": taken},
                "top_p": {"top_p": 0}, "repeat_penalty": {"repeat_penalty": 101},
                "short_note_penalty": {"short_note_penalty": 0.5}}[case])
  one_error_line(run_tool("hrnnvae-eval", *(f"--{k}={v}" for k, v in flags.items())),
                 "hrnnvae-eval", needle)
  assert not (tmp_path / "report").exists()


@pytest.mark.slow
def test_eval_reports_progress_and_reads_an_export_folder(nottingham_40, model, tmp_path):
  out = tmp_path / "report"
  result = run_tool("hrnnvae-eval", f"--workdirs={model / 'export'}",
                    f"--dataset_cache={nottingham_40[0]}", "--num_samples=2", "--seeds=0",
                    "--bars=2", f"--out={out}")
  assert result.returncode == 0, result.stderr[-2000:]
  name = model.name
  assert f"model 1/1 {name}: seed 0: sampling 8 melodies" in result.stderr
  assert f"model 1/1 {name}: test-split likelihood" in result.stderr
  assert (out / "report.md").is_file() and name in (out / "report.md").read_text()


# --- hrnnvae-listen -------------------------------------------------------------------------

@pytest.mark.parametrize("case, needle", [
    ("no_model", "one of --workdir, --checkpoint or --pretrained"),
    ("no_cache", "pass --dataset_cache=DIR"), ("clips", "--clips_per_side must be at least 1"),
    ("bars", "--bars must be at least 1 and at most 64"), ("out_file", "is a file"),
    ("no_data", "no prepared data in"),
])
def test_listen_flag_mistakes(model, tmp_path, case, needle):
  taken = tmp_path / "taken"
  taken.write_text("x")
  flags = {"workdir": model, "dataset_cache": tmp_path, "out": tmp_path / "set"}
  flags.update({"no_model": {"workdir": ""}, "no_cache": {"dataset_cache": ""},
                "clips": {"clips_per_side": 0}, "bars": {"bars": 65}, "out_file": {"out": taken},
                "no_data": {}}[case])
  one_error_line(run_tool("hrnnvae-listen", *(f"--{k}={v}" for k, v in flags.items())),
                 "hrnnvae-listen", needle)
  assert not (tmp_path / "set").exists()


def test_scoring_a_folder_that_is_no_set_or_has_no_answers_is_one_line(tmp_path):
  one_error_line(run_tool("hrnnvae-listen", f"--score={tmp_path}"), "hrnnvae-listen",
                 "not a listening set")
  (tmp_path / "key.json").write_text(json.dumps({"clips": [
      {"name": "clip_01", "source": "real", "quadrant": "happy", "origin": "tune 1"}]}))
  (tmp_path / "answers.csv").write_text("clip,guess\nclip_01,\n")
  one_error_line(run_tool("hrnnvae-listen", f"--score={tmp_path}"), "hrnnvae-listen",
                 "no guesses yet")


def test_scoring_refuses_the_flags_that_make_a_set(tmp_path):
  # --score reads a set already made: a flag for making one beside it would be silently ignored.
  one_error_line(run_tool("hrnnvae-listen", f"--score={tmp_path}", "--bars=8", "--seed=3"),
                 "hrnnvae-listen", "--bars, --seed make one: pass them without --score")


@pytest.mark.slow
def test_listen_makes_a_blind_set_of_real_tunes_and_samples_and_scores_a_sheet(
    nottingham_40, tmp_path):
  model = random_export(tmp_path / "run" / "export", meter=(6, 8)).parent  # 40 tunes: test in 6/8
  out = tmp_path / "set"
  result = run_tool("hrnnvae-listen", f"--workdir={model}", f"--dataset_cache={nottingham_40[0]}",
                    "--bars=2", "--clips_per_side=3", "--audio=false", f"--out={out}")
  assert result.returncode == 0, result.stderr[-2000:]
  key = json.loads((out / "key.json").read_text())
  sources = [clip["source"] for clip in key["clips"]]
  assert sorted(sources) == ["model"] * 3 + ["real"] * 3
  quadrants = {s: sorted(c["quadrant"] for c in key["clips"] if c["source"] == s)
               for s in ("real", "model")}
  assert quadrants["real"] == quadrants["model"]  # each sample asked for its real clip's quadrant
  assert sorted(p.name for p in (out / "clips").iterdir()) == [
      f"clip_0{i}.mid" for i in range(1, 7)]
  assert key["split"] == "test" and key["bars"] == 2
  rows = ["clip,guess"] + [f"{c['name']},{c['source']}" for c in key["clips"]]
  (out / "answers.csv").write_text("\n".join(rows) + "\n")
  scored = run_tool("hrnnvae-listen", f"--score={out}")
  assert scored.returncode == 0, scored.stderr[-2000:]
  assert "6 of 6 clips answered, 6 right: accuracy 1.000" in scored.stdout
  assert json.loads((out / "score.json").read_text())["accuracy"] == 1.0
  # The same seed makes the same set: a listener's sheet stays valid for it.
  again = run_tool("hrnnvae-listen", f"--workdir={model}", f"--dataset_cache={nottingham_40[0]}",
                   "--bars=2", "--clips_per_side=3", "--audio=false", f"--out={out}",
                   "--overwrite")
  assert again.returncode == 0, again.stderr[-2000:]
  assert json.loads((out / "key.json").read_text())["clips"] == key["clips"]
  assert "warning" not in result.stderr
  # A model trained on other data than the real clips' is said to be, not refused.
  config_path = model / "export" / "config.json"
  config = json.loads(config_path.read_text())
  config["data"]["dataset"] = "jsb_chorales"
  config_path.write_text(json.dumps(config))
  other = run_tool("hrnnvae-listen", f"--workdir={model}", f"--dataset_cache={nottingham_40[0]}",
                   "--bars=2", "--clips_per_side=1", "--audio=false", f"--out={tmp_path / 'other'}")
  assert other.returncode == 0, other.stderr[-2000:]
  assert ("hrnnvae-listen: warning: the model was trained on jsb_chorales, the real clips come "
          "from nottingham") in other.stderr


# --- hrnnvae-train --------------------------------------------------------------------------

def without_valid(cache_dir, tmp_path) -> pathlib.Path:
  """A copy of a cache whose validation windows all moved to the test split."""
  from hrnnvae.data import cache as cache_lib
  arrays, manifest = cache_lib.load(cache_dir)
  arrays["split"] = np.where(arrays["split"] == 1, 2, arrays["split"]).astype(arrays["split"].dtype)
  cache_lib.save(tmp_path / "no_valid", arrays, manifest)
  return tmp_path / "no_valid"


@pytest.mark.parametrize("case, needle", [
    ("missing_file", "no such config file"),
    ("unknown_field", "names the field 'colour'"),
    ("bad_value", "flag --config.train.batch_size=lots"),
    ("invalid_choice", "model.decoder must be one of"),
    ("no_data", "no prepared data in"),
    ("workdir_file", "is a file, not a folder"),
    ("empty_valid", "validation windows"),
])
def test_train_mistakes_leave_no_workdir(case, needle, tmp_path, nottingham_40):
  workdir = tmp_path / "run"
  config = f"--config={ROOT / 'configs' / 'tiny.py'}"
  cache = f"--config.data.cache_dir={nottingham_40[0]}"
  args = {"missing_file": [f"--config={tmp_path / 'nope.py'}"],
          "unknown_field": [config, cache, "--config.train.colour=red"],
          "bad_value": [config, cache, "--config.train.batch_size=lots"],
          "invalid_choice": [config, cache, "--config.model.decoder=jazz"],
          "no_data": [config, f"--config.data.cache_dir={tmp_path / 'no_cache'}"],
          "workdir_file": [config, cache],
          "empty_valid": [config, f"--config.data.cache_dir={without_valid(nottingham_40[0], tmp_path)}"]
          }[case]
  if case == "workdir_file":
    workdir.write_text("x")
  result = run_tool("hrnnvae-train", *args, f"--workdir={workdir}")
  line = one_error_line(result, "hrnnvae-train", needle)
  assert "config:" not in result.stdout  # no config dump
  assert (not workdir.exists()) or case == "workdir_file", line


@pytest.mark.slow
def test_train_to_max_steps_exports_logs_progress_and_says_where(nottingham_40, tmp_path):
  workdir = tmp_path / "run"
  result = run_tool("hrnnvae-train", f"--config={ROOT / 'configs' / 'tiny.py'}",
                    f"--config.data.cache_dir={nottingham_40[0]}", "--config.train.max_steps=3",
                    "--config.train.log_every_steps=1", f"--workdir={workdir}")
  assert result.returncode == 0, result.stderr[-2000:]
  assert (workdir / "export" / "config.json").is_file()
  assert "step 3: loss" in result.stderr and "steps/s" in result.stderr  # logged to a pipe
  assert f"the best validated model is in {workdir / 'export'}" in result.stdout
  sampled = run_tool("hrnnvae-sample", f"--workdir={workdir}", "--bars=1", "--noaudio",
                     f"--output_dir={tmp_path / 'samples'}")
  assert sampled.returncode == 0, sampled.stderr[-1500:]


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_run_still_leaves_an_export(nottingham_40, tmp_path, stop):
  """Ctrl-C, or a scheduler's TERM, to a run started the way `cmd &` starts it: SIGINT ignored."""
  workdir = tmp_path / "run"
  env = dict(os.environ)
  process = subprocess.Popen(
      [sys.executable, "-m", TOOLS["hrnnvae-train"], f"--config={ROOT / 'configs' / 'tiny.py'}",
       f"--config.data.cache_dir={nottingham_40[0]}", "--config.train.max_steps=100000",
       "--config.train.eval_every_steps=100000", "--config.train.log_every_steps=1",
       f"--workdir={workdir}"], stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env,
      preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
  for line in process.stderr:  # wait until steps are being taken, before any validation
    if "step 2: loss" in line:
      break
  process.send_signal(stop)
  stdout, stderr = process.communicate(timeout=300)
  assert process.returncode == 130, stderr[-2000:]
  assert (workdir / "export" / "config.json").is_file()
  assert "(interrupted)" in stdout and "the best validated model is in" in stdout


# --- the README's commands ------------------------------------------------------------------

def readme_commands() -> list[tuple[str, list[str]]]:
  """(tool, flag names) of every hrnnvae-* command in the README's bash blocks."""
  text = (ROOT / "README.md").read_text()
  commands, in_bash = [], False
  for line in text.replace("\\\n", " ").splitlines():
    if line.startswith("```"):
      in_bash = line.strip() == "```bash"
      continue
    words = line.split("#")[0].split()
    if in_bash and words and words[0] in TOOLS:
      commands.append((words[0], [w[2:].split("=")[0] for w in words[1:] if w.startswith("--")]))
  return commands


def test_every_flag_in_the_readme_exists():
  commands = readme_commands()
  assert {tool for tool, _ in commands} == set(TOOLS), "the README shows every tool"
  known = {}
  for tool in TOOLS:
    help_text = run_tool(tool, "--help").stdout
    known[tool] = {line.split(":")[0].strip()[2:] for line in help_text.splitlines()
                   if line.startswith("  --")}
  for tool, names in commands:
    for name in names:
      bare = name[2:] if name.startswith("no") and name[2:] in known[tool] else name
      assert bare in known[tool] or bare.startswith("config."), f"{tool} has no --{name}"
