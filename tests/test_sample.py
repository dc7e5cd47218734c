"""Sampling: determinism, batch independence, MIDI round trips, interpolation, the model's own
settings, CLI errors, demo."""

import dataclasses
import functools
import json
import os
import pathlib
import runpy
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from note_seq import midi_io
from note_seq.protobuf import music_pb2
from tool_driver import ToolDriver, user_env

from hrnnvae import cli, exports, melody_io, render
from hrnnvae import latent_prior as latent_prior_lib
from hrnnvae import models as models_lib
from hrnnvae.data import events as events_lib
from hrnnvae.models.hparams import ModelHParams
from hrnnvae.sample import SampleError, Sampler, emotion_indices, slerp

ROOT = pathlib.Path(__file__).parent.parent


@functools.cache
def _random_params(hp):
  """A model's random weights, made once a process for the tests that share its shape (an eager
  init compiles every scan of the model again)."""
  return models_lib.build(hp).init(
      jax.random.key(0), jnp.zeros((1, 8), jnp.int32), jnp.full((1,), 8), jnp.full((1,), 4),
      jnp.zeros((1,), jnp.int32), jax.random.key(1))["params"]


def _random_sampler(meter=(4, 4), variant=None):
  """A fresh Sampler (its facts the test's to change) over _random_params' weights."""
  config = runpy.run_path(str(ROOT / "configs" / "tiny.py"))["get_config"](variant)
  steps_per_bar = events_lib.steps_per_bar(*meter)
  hp = ModelHParams.from_config(config.model, 4 * steps_per_bar, steps_per_bar, steps_per_bar, 4)
  params = _random_params(hp)
  facts = {"steps_per_bar": steps_per_bar, "time_signature": list(meter), "qpm": 100.0,
           "arousal_thresholds": {"median_note_density": 4.0, "median_mean_abs_interval": 2.0}}
  return Sampler(hp, {"vae": params, "emotion": None}, {"data": facts})


def test_sampling_is_deterministic_for_a_seed_and_differs_across_seeds():
  sampler = _random_sampler()
  one = sampler.sample([0, 1, 2, 3], bars=2, seed=7)
  again = sampler.sample([0, 1, 2, 3], bars=2, seed=7)
  other = sampler.sample([0, 1, 2, 3], bars=2, seed=8)
  assert all(np.array_equal(a.events, b.events) for a, b in zip(one, again))
  assert not all(np.array_equal(a.events, b.events) for a, b in zip(one, other))
  assert [m.events.shape for m in one] == [(32,)] * 4


@pytest.mark.parametrize("variant", [None, "lstm_lm", "musicvae_like"])
def test_a_batch_equals_one_melody_at_a_time(variant):
  sampler = _random_sampler(variant=variant)
  z, emotions = sampler.prior(5, seed=3), [0, 1, 2, 3, 0]
  batch = sampler.decode(z, emotions, 48, seed=3, temperature=0.8)
  for i in range(5):
    alone = sampler.decode(z[i:i + 1], emotions[i:i + 1], 48, seed=3, temperature=0.8,
                           melody_ids=[i])
    np.testing.assert_array_equal(alone[0], batch[i])


@pytest.mark.parametrize("meter", [(4, 4), (6, 8)])
def test_generated_midi_parses_back_with_the_requested_bars(tmp_path, meter):
  sampler = _random_sampler(meter)
  for melody in sampler.sample([0, 3], bars=3, seed=0):
    assert len(melody.events) == 3 * events_lib.steps_per_bar(*meter)
    path = tmp_path / "melody.mid"
    render.write_midi(melody.events, path, 100.0, meter)
    parsed = midi_io.midi_file_to_note_sequence(str(path))
    assert [(ts.numerator, ts.denominator) for ts in parsed.time_signatures] == [meter]
    assert parsed.tempos[0].qpm == pytest.approx(100.0)
    quantized = events_lib.quantize(parsed)
    assert quantized.total_quantized_steps <= len(melody.events)
    np.testing.assert_array_equal(
        events_lib.quantized_melody_events(quantized, num_steps=len(melody.events)), melody.events)


def test_slerp_endpoints_and_norms():
  start, end = np.array([1.0, 0.0, 0.0]), np.array([0.0, 2.0, 0.0])
  path = slerp(start, end, np.linspace(0, 1, 5))
  np.testing.assert_allclose(path[0], start, atol=1e-6)
  np.testing.assert_allclose(path[-1], end, atol=1e-6)
  assert np.all(np.linalg.norm(path, axis=1) > 0.9)  # not through the origin, unlike lerp


def test_emotion_names():
  rng = np.random.default_rng(0)
  assert emotion_indices("happy,calm", 2, rng) == [0, 0, 3, 3]
  assert len(emotion_indices("any", 6, rng)) == 6
  with pytest.raises(SampleError, match="unknown emotion 'joyful'"):
    emotion_indices("joyful", 1, rng)


@pytest.fixture(scope="session")
def sample_cli():
  """hrnnvae-sample args -> CompletedProcess, every run in one long-lived interpreter
  (tests/tool_driver.py: flags reset, exit status and output captured as a user sees them)."""
  driver = ToolDriver("hrnnvae.sample_main", user_env())
  yield lambda *args: driver("hrnnvae-sample", list(args))
  driver.close()


def test_interpolation_endpoints_are_the_inputs_latents(tiny_workdir, datasets_root):
  sampler = Sampler.load(tiny_workdir / "export")
  melody_dir = datasets_root / "nottingham" / "MIDI" / "melody"
  (first, meter_1), (second, meter_2) = (melody_io.read_melody(melody_dir / name)
                                         for name in ("jigs12.mid", "reelsa-c5.mid"))
  mu_1, mu_2 = sampler.encode(first, meter_1), sampler.encode(second, meter_2)
  path = slerp(mu_1, mu_2, np.linspace(0, 1, 4))
  np.testing.assert_allclose(path[0], mu_1, rtol=1e-5, atol=1e-5)
  np.testing.assert_allclose(path[-1], mu_2, rtol=1e-5, atol=1e-5)
  assert not np.allclose(mu_1, mu_2)


def test_cli_sample_writes_midi_wav_png_and_manifest(sample_cli, tiny_workdir, tmp_path):
  result = sample_cli(f"--workdir={tiny_workdir}", "--emotion=happy,sad", "--num_outputs=2",
                       "--bars=4", f"--output_dir={tmp_path}", "--seed=3",
                       "--quadrant_guidance=0,0,2.5,0")
  assert result.returncode == 0, result.stderr[-2000:]
  manifest = json.loads((tmp_path / "manifest.json").read_text())
  assert manifest["quadrant_guidance"] == [0.0, 0.0, 2.5, 0.0]  # the flag, read once, steers
  assert [m["emotion"] for m in manifest["melodies"]] == ["happy", "happy", "sad", "sad"]
  for melody in manifest["melodies"]:
    for name in melody["files"]:
      assert (tmp_path / name).stat().st_size > 0
    assert melody["classifier_verdict"] in ("happy", "tense", "sad", "calm")
    assert melody["steps"] == 4 * manifest_steps_per_bar(manifest)
  assert {p.suffix for p in tmp_path.iterdir()} == {".mid", ".wav", ".png", ".json"}
  # No --temperature: the model's own, from its export's sampling facts, and the manifest says so.
  description = json.loads((tiny_workdir / "export" / "config.json").read_text())
  assert manifest["temperature"] == exports.sampling_settings(description)["temperature"]
  assert manifest["top_p"] == exports.sampling_settings(description)["top_p"]


def manifest_steps_per_bar(manifest):
  return events_lib.steps_per_bar(*manifest["time_signature"])


def test_cli_reconstruct_and_interpolate(sample_cli, tiny_workdir, datasets_root, tmp_path):
  melody_dir = datasets_root / "nottingham" / "MIDI" / "melody"
  result = sample_cli(f"--workdir={tiny_workdir}", "--mode=reconstruct",
                      f"--input_midi={melody_dir / 'jigs12.mid'}", "--emotion=sad",
                      "--temperature=0.7", "--top_p=0.9", f"--output_dir={tmp_path / 'r'}",
                      "--noaudio")
  assert result.returncode == 0, result.stderr[-2000:]
  manifest = json.loads((tmp_path / "r" / "manifest.json").read_text())
  assert manifest["melodies"][0]["emotion"] == "sad" and manifest["request"]["input_emotion"]
  assert (manifest["temperature"], manifest["top_p"]) == (0.7, 0.9)  # the flags, given, are used
  result = sample_cli(f"--workdir={tiny_workdir}", "--mode=interpolate", "--num_outputs=3",
                      f"--input_midi_1={melody_dir / 'jigs12.mid'}",
                      f"--input_midi_2={melody_dir / 'reelsa-c5.mid'}",
                      f"--output_dir={tmp_path / 'i'}", "--noaudio")
  assert result.returncode == 0, result.stderr[-2000:]
  assert len(json.loads((tmp_path / "i" / "manifest.json").read_text())["melodies"]) == 3


def _drum_file(path):
  sequence = music_pb2.NoteSequence(ticks_per_quarter=220)
  for i in range(8):
    sequence.notes.add(pitch=36, start_time=i * 0.5, end_time=i * 0.5 + 0.25, velocity=90,
                       is_drum=True, instrument=9)
  midi_io.note_sequence_to_midi_file(sequence, str(path))


@pytest.mark.parametrize("case", ["emotion", "checkpoint", "incompatible", "drums", "bars", "seed",
                                  "seed_too_big", "candidates", "attention_bars",
                                  "section_correlation", "section_repeats",
                                  "quadrant_guidance"])
def test_cli_errors_are_one_line_and_non_zero(sample_cli, tiny_workdir, tmp_path, case):
  workdir = f"--workdir={tiny_workdir}"
  if case == "emotion":
    args, message = [workdir, "--emotion=joyful"], "unknown emotion 'joyful'"
  elif case == "checkpoint":
    args, message = [f"--workdir={tmp_path}"], "no exported model"
  elif case == "incompatible":
    broken = tmp_path / "broken" / "export"
    broken.mkdir(parents=True)
    (broken / "config.json").write_text(json.dumps({"model": {"latent_dim": 3}, "data": {}}))
    args, message = [f"--workdir={broken.parent}"], "not a compatible hrnnvae export"
  elif case == "drums":
    _drum_file(tmp_path / "drums.mid")
    args = [workdir, "--mode=reconstruct", f"--input_midi={tmp_path / 'drums.mid'}"]
    message = "has no usable melody (drum_only"
  elif case == "bars":
    args, message = [workdir, "--bars=0"], "--bars must be at least 1"
  elif case == "candidates":  # the tiny model has no realism critic
    args, message = [workdir, "--candidates=4"], "needs the model's realism critic"
  elif case == "attention_bars":
    args, message = [workdir, "--attention_bars=-1"], "--attention_bars must be at least 0"
  elif case == "section_correlation":
    args = [workdir, "--section_bars=2", "--section_correlation=1.5"]
    message = "--section_correlation must be at least 0 and at most 1"
  elif case == "quadrant_guidance":
    args = [workdir, "--quadrant_guidance=1,2,3"]
    message = "--quadrant_guidance takes four numbers from 0 to 10"
  elif case == "section_repeats":
    args = [workdir, "--section_bars=2", "--section_repeats=0"]
    message = "--section_repeats must be at least 1"
  elif case == "seed":  # was a traceback from numpy's generator
    args, message = [workdir, "--seed=-1"], "--seed must be at least 0 and at most 4294967295, not -1"
  else:  # a JAX key keeps 32 bits: 2**32 would repeat seed 0
    args, message = [workdir, f"--seed={cli.MAX_SEED + 1}"], "--seed must be at least 0"
  result = sample_cli(*args, f"--output_dir={tmp_path / 'out'}")
  assert result.returncode == 2
  lines = [line for line in result.stderr.splitlines() if line.startswith("hrnnvae-sample:")]
  assert len(lines) == 1 and message in lines[0], result.stderr[-1500:]
  assert "Traceback" not in result.stderr and not (tmp_path / "out").exists()


@pytest.mark.slow
def test_demo_runs_end_to_end_at_a_small_size(tmp_path):
  env = dict(os.environ, PYTHONWARNINGS="ignore", HRNNVAE_VENV=sys.prefix,
             HRNNVAE_DEMO_DIR=str(tmp_path / "runs"), HRNNVAE_DEMO_OUT=str(tmp_path / "demo_out"),
             HRNNVAE_DEMO_LIMIT="30")
  result = subprocess.run(["bash", str(ROOT / "launch" / "demo.sh"), "--config.train.max_steps=4"],
                          capture_output=True, text=True, env=env, timeout=900)
  assert result.returncode == 0, result.stderr[-3000:]
  assert f"done: listen to {tmp_path / 'demo_out'}" in result.stdout
  manifest = json.loads((tmp_path / "demo_out" / "manifest.json").read_text())
  assert [m["emotion"] for m in manifest["melodies"]] == ["happy", "tense", "sad", "calm"]
  assert all(m["bars"] == 32 for m in manifest["melodies"])


def test_reconstruct_keeps_the_input_meter_and_length_section_by_section(monkeypatch):
  """A 6/8 tune of 20 bars, with a 4/4 model trained on 4-bar windows: three sections, each
  encoded to its own mu and decoded with 12 steps a bar, glued back to the tune's length."""
  sampler = _random_sampler()
  sampler.facts["max_bars"] = 8
  events = np.zeros(20 * 12, np.int64)
  events[::6] = 40  # an onset on every dotted quarter
  decoded_with = []
  real_decode = sampler.decode

  def spy(z, emotions, num_steps, seed, temperature=None, melody_ids=None, steps_per_bar=None,
          emotion_guidance=None, keep=None, transfer=False):
    decoded_with.append((len(z), num_steps, int(np.asarray(steps_per_bar).flat[0])))
    return real_decode(z, emotions, num_steps, seed, temperature, melody_ids, steps_per_bar,
                       emotion_guidance, keep=keep, transfer=transfer)

  monkeypatch.setattr(sampler, "decode", spy)
  melodies = sampler.reconstruct(events, (6, 8), [0, 2], seed=1)
  assert [m.shape for m in melodies] == [(240,), (240,)]
  assert decoded_with == [(3, 96, 12), (3, 96, 12)]  # 8-bar sections of 12 steps, 3 of them
  again = sampler.reconstruct(events, (6, 8), [0, 2], seed=1)
  np.testing.assert_array_equal(melodies[0], again[0])


def test_transfer_latents_add_the_attribute_vector_between_the_fitted_means():
  sampler = _random_sampler()
  z = sampler.hp.latent_dim
  mu = np.random.default_rng(0).normal(size=(3, z)).astype(np.float32)
  own, requested = np.array([0, 2, 1]), np.array([2, 2, 3])
  np.testing.assert_array_equal(sampler.transfer_latents(mu, own, requested), mu)  # no prior
  means = np.arange(4 * z, dtype=np.float64).reshape(4, z)
  sampler.latent_prior = latent_prior_lib.LatentPrior(means, np.stack([np.eye(z)] * 4),
                                                      np.ones(4, np.int64))
  np.testing.assert_array_equal(sampler.transfer_latents(mu, own, requested), mu)  # shift 0
  sampler.transfer_shift = 0.5
  expected = mu + 0.5 * (means[requested] - means[own])
  np.testing.assert_allclose(sampler.transfer_latents(mu, own, requested), expected, rtol=1e-6)
  assert np.array_equal(sampler.transfer_latents(mu, own, requested)[1], mu[1])  # same emotion


@pytest.mark.parametrize("variant, guidance", [(None, 1.0), (None, 2.0), ("musicvae_like", 1.0)])
def test_transfer_keep_favours_the_tunes_own_events_by_its_bias(variant, guidance):
  """decode(keep=...) raises the kept event's logit by transfer_keep: off at 0 (the plain decode),
  every kept event at a bias no logit gap of an untrained model reaches, more kept events at a
  moderate one; a negative event favours nothing (the rows Sampler.reconstruct leaves be)."""
  sampler = _random_sampler(variant=variant)
  sampler.steer(emotion_guidance=guidance)
  z, emotions = sampler.prior(4, seed=2), [0, 1, 2, 3]
  tune = np.random.default_rng(0).integers(0, sampler.hp.num_classes, (4, 64))
  plain = sampler.decode(z, emotions, 64, seed=5, temperature=1.0)
  assert sampler.transfer_keep == 0.0  # exports before it was recorded: off
  np.testing.assert_array_equal(sampler.decode(z, emotions, 64, seed=5, temperature=1.0, keep=tune),
                                plain)
  np.testing.assert_array_equal(
      sampler.decode(z, emotions, 64, seed=5, temperature=1.0, keep=tune, keep_bias=20.0), tune)
  sampler.steer(transfer_keep=3.0)  # e^3 times likelier: about a fifth of the steps kept
  moderate = sampler.decode(z, emotions, 64, seed=5, temperature=1.0, keep=tune)
  assert (moderate == tune).mean() > (plain == tune).mean() + 0.05
  assert (moderate != tune).mean() > 0.3
  kept_rows = np.where(np.array([True, False, True, False])[:, None], tune, -1)
  some = sampler.decode(z, emotions, 64, seed=5, temperature=1.0, keep=kept_rows, keep_bias=20.0)
  np.testing.assert_array_equal(some[[0, 2]], tune[[0, 2]])
  np.testing.assert_array_equal(some[[1, 3]], plain[[1, 3]])
  with pytest.raises(SampleError, match="transfer_keep"):
    sampler.steer(transfer_keep=-1.0)
  with pytest.raises(SampleError, match="steps"):
    sampler.decode(z, emotions, 32, seed=5, keep=tune)


def test_reconstruct_keeps_the_tune_only_where_it_moves_the_emotion():
  """Sampler.reconstruct favours the tune's own events in the sections asked for another
  emotion than their own (emotion transfer), not in a plain reconstruction."""
  from hrnnvae import judge
  sampler = _random_sampler()
  sampler.facts["max_bars"] = 4
  tune = np.zeros(4 * 16, np.int64)
  tune[::4] = np.tile([60, 62, 64, 65, 67, 65, 64, 62], 2)  # one 4-bar section
  own = int(judge.labels([tune], 16, judge.thresholds_of(sampler.facts))[0])
  other = (own + 1) % 4
  sampler.steer(transfer_keep=20.0)
  kept, moved = sampler.reconstruct(tune, (4, 4), [own, other], seed=3, temperature=1.0)
  np.testing.assert_array_equal(moved, tune)
  assert (kept == tune).mean() < 0.5
  sampler.steer(transfer_keep=0.0)
  assert (sampler.reconstruct(tune, (4, 4), [other], seed=3, temperature=1.0)[0] == tune).mean() < 0.5


def test_a_bar_dropout_model_transfers_from_z_alone_and_reconstructs_with_its_bars():
  """On a model trained with bar-latent dropout, transfer_latents zero the bars' latents of the
  melodies whose emotion moves (they decode z alone, as prior samples do) and keep them where it
  stays (a plain reconstruction)."""
  sampler = _random_sampler(variant="bar_dropout")
  hp = sampler.hp
  assert hp.prior_drops_bar_latents
  mu = np.random.default_rng(0).normal(size=(3, hp.latent_size)).astype(np.float32)
  own, requested = np.array([0, 2, 1]), np.array([2, 2, 3])
  moved = sampler.transfer_latents(mu, own, requested)
  np.testing.assert_array_equal(moved[1], mu[1])
  np.testing.assert_array_equal(moved[[0, 2], :hp.latent_dim], mu[[0, 2], :hp.latent_dim])
  assert not moved[[0, 2], hp.latent_dim:].any()
  plain = _random_sampler()  # no bar latents: mu as it was
  small = mu[:, :plain.hp.latent_size]
  np.testing.assert_array_equal(plain.transfer_latents(small, own, requested), small)


def test_reconstruct_as_it_is_keeps_each_sections_own_emotion():
  """An emotion of None (hrnnvae-sample --mode=reconstruct without --emotion) decodes every
  section with its own emotion and none of transfer's settings, even where the sections' emotions
  differ; asking for one emotion moves the sections of another."""
  from hrnnvae import judge
  sampler = _random_sampler()
  sampler.facts["max_bars"] = 4
  calm = np.zeros(64, np.int64)
  calm[::8] = events_lib.pitch_to_event(np.array([60, 62, 64, 62, 60, 64, 62, 60]))
  busy = np.zeros(64, np.int64)
  busy[::2] = events_lib.pitch_to_event(np.tile([60, 67, 63, 70], 8))
  tune = np.concatenate([calm, busy])
  own = judge.labels([calm, busy], 16, judge.thresholds_of(sampler.facts))
  assert own[0] != own[1]
  sampler.steer(transfer_guidance=3.0, transfer_keep=5.0)
  as_it_is = sampler.reconstruct(tune, (4, 4), [None], seed=2, temperature=1.0)[0]
  mu = np.stack([sampler.encode(calm, (4, 4)), sampler.encode(busy, (4, 4))])
  plain = sampler.decode(mu, own, 64, 2, 1.0, melody_ids=[0, 1], emotion_guidance=1.0)
  np.testing.assert_array_equal(as_it_is, plain.reshape(-1))
  moved = sampler.reconstruct(tune, (4, 4), [int(own[0])], seed=2, temperature=1.0)[0]
  np.testing.assert_array_equal(moved[:64], plain[0])  # already its emotion
  assert not np.array_equal(moved[64:], plain[1])  # moved: z shifted, guided, keeping the tune


def test_transfer_guidance_is_the_models_own_and_steers_only_the_moved_sections():
  """transfer_guidance defaults to the model's emotion_guidance (what transfers used before it
  was recorded); Sampler.reconstruct decodes the sections asked for another emotion at it and
  the others at emotion_guidance."""
  from hrnnvae import judge
  sampler = _random_sampler()
  assert exports.sampling_settings({"sampling": {"emotion_guidance": 1.5}})["transfer_guidance"] == 1.5
  assert exports.sampling_settings(
      {"sampling": {"emotion_guidance": 1.5, "transfer_guidance": 2.0}})["transfer_guidance"] == 2.0
  assert sampler.transfer_guidance == 1.0
  sampler.facts["max_bars"] = 4
  tune = np.zeros(4 * 16, np.int64)
  tune[::4] = np.tile([60, 62, 64, 65, 67, 65, 64, 62], 2)
  own = int(judge.labels([tune], 16, judge.thresholds_of(sampler.facts))[0])
  other = (own + 1) % 4
  mu = sampler.encode(tune, (4, 4))[None]
  sampler.steer(transfer_guidance=3.0)
  kept, moved = sampler.reconstruct(tune, (4, 4), [own, other], seed=3, temperature=1.0)
  np.testing.assert_array_equal(
      moved, sampler.decode(mu, [other], 64, 3, 1.0, melody_ids=[1], emotion_guidance=3.0)[0])
  np.testing.assert_array_equal(
      kept, sampler.decode(mu, [own], 64, 3, 1.0, melody_ids=[0], emotion_guidance=1.0)[0])
  assert not np.array_equal(
      moved, sampler.decode(mu, [other], 64, 3, 1.0, melody_ids=[1], emotion_guidance=1.0)[0])


def _edit_round_reference(sampler, z, own, requested, tunes, lengths, rooms):
  """One round of Sampler.edit_toward in plain numpy on the decoder's teacher-forced
  log-probabilities: each tune's EDITS_PER_ROUND (at most its room) real steps whose best event
  gains most (score lp_requested + alpha (lp_requested - lp_own)) get that event."""
  from hrnnvae import sample as sample_lib
  spb = jnp.full(len(tunes), sampler.steps_per_bar, jnp.int32)

  def log_probs(emotions):
    logits, _ = sampler.vae.apply({"params": sampler.params["vae"]}, jnp.asarray(z),
                                  jnp.asarray(emotions, jnp.int32), jnp.asarray(tunes, jnp.int32),
                                  spb, method="decode")
    logits = np.asarray(logits, np.float64)
    return logits - np.log(np.exp(logits - logits.max(-1, keepdims=True)).sum(-1, keepdims=True)) \
        - logits.max(-1, keepdims=True)

  wanted, theirs = log_probs(requested), log_probs(own)
  score = wanted + sample_lib.EDIT_CONTRAST * (wanted - theirs)
  edited = tunes.copy()
  for row in range(len(tunes)):
    gains = [(score[row, t].max() - score[row, t, tunes[row, t]], t) for t in range(lengths[row])]
    for gain, t in sorted(gains, key=lambda pair: -pair[0])[:min(sample_lib.EDITS_PER_ROUND,
                                                                 rooms[row])]:
      if gain > 1e-6:
        edited[row, t] = score[row, t].argmax()
  return edited


def test_transfer_edits_change_the_steps_the_model_wants_within_their_budget():
  """Sampler.edit_toward: one round equals a plain-numpy reference (the EDITS_PER_ROUND steps
  whose best event gains most under the requested emotion against the tune's own); a budget
  caps the edited share of each tune's real steps and never touches its padding; 0 edits
  nothing; it is deterministic and refuses a budget outside [0, 1]."""
  from hrnnvae import sample as sample_lib
  sampler = _random_sampler()
  assert sampler.transfer_edits == 0.0  # exports before it was recorded: off
  rng = np.random.default_rng(4)
  tunes = rng.integers(0, sampler.hp.num_classes, (3, 64))
  lengths = np.array([64, 48, 64])
  tunes[1, 48:] = 0
  own, requested = np.array([0, 1, 2]), np.array([1, 3, 0])
  z = sampler.prior(3, seed=1)
  one_round = sample_lib.EDITS_PER_ROUND / 64
  edited = sampler.edit_toward(z, own, requested, tunes, lengths, budget=one_round)
  reference = _edit_round_reference(sampler, z, own, requested, tunes, lengths, [4, 3, 4])
  np.testing.assert_array_equal(edited, reference)
  assert ((edited != tunes).sum(1) == [4, 3, 4]).all()  # floor(share * 48) = 3 for the short one
  for budget in (0.1, 0.3):
    edited = sampler.edit_toward(z, own, requested, tunes, lengths, budget=budget)
    changed = (edited != tunes).sum(1)
    assert (changed <= np.floor(budget * lengths)).all() and (changed > 0).all()
    np.testing.assert_array_equal(edited[1, 48:], tunes[1, 48:])
    np.testing.assert_array_equal(edited, sampler.edit_toward(z, own, requested, tunes, lengths,
                                                              budget=budget))
  np.testing.assert_array_equal(sampler.edit_toward(z, own, requested, tunes, lengths, budget=0.0),
                                tunes)
  with pytest.raises(SampleError, match="transfer_edits"):
    sampler.steer(transfer_edits=1.5)


def test_transfer_edits_apply_to_the_moved_sections_only():
  """With transfer_edits, Sampler.reconstruct edits the sections asked for another emotion
  (edit_toward from transfer_latents, within the budget) and reconstructs the others as before."""
  from hrnnvae import judge
  sampler = _random_sampler()
  sampler.facts["max_bars"] = 4
  tune = np.zeros(4 * 16, np.int64)
  tune[::4] = events_lib.pitch_to_event(np.tile([60, 62, 64, 65, 67, 65, 64, 62], 2))
  own = int(judge.labels([tune], 16, judge.thresholds_of(sampler.facts))[0])
  other = (own + 1) % 4
  plain_kept, _ = sampler.reconstruct(tune, (4, 4), [own, other], seed=3, temperature=1.0)
  sampler.steer(transfer_edits=0.25)
  kept, moved = sampler.reconstruct(tune, (4, 4), [own, other], seed=3, temperature=1.0)
  np.testing.assert_array_equal(kept, plain_kept)
  mu = sampler.encode(tune, (4, 4))[None]
  z = sampler.transfer_latents(mu, [own], [other])
  np.testing.assert_array_equal(
      moved, sampler.edit_toward(z, [own], [other], tune[None], [64], budget=0.25)[0])
  assert 0 < (moved != tune).sum() <= 16


def test_top_p_is_the_models_own_and_a_tiny_nucleus_is_the_greedy_decode():
  """The export's top_p is what sampling uses unless steered; exports from before it was recorded
  sample every event (1.0); a nucleus of the single most likely event decodes greedily."""
  sampler = _random_sampler()
  assert sampler.top_p == exports.sampling_settings({})["top_p"] == 1.0
  own = Sampler(sampler.hp, sampler.params, {"data": sampler.facts, "sampling": {"top_p": 0.7}})
  assert own.top_p == 0.7
  z, emotions = sampler.prior(4, seed=1), [0, 1, 2, 3]
  np.testing.assert_array_equal(own.decode(z, emotions, 32, seed=5),
                                sampler.decode(z, emotions, 32, seed=5, top_p=0.7))
  assert not np.array_equal(own.decode(z, emotions, 32, seed=5, temperature=1.5),
                            sampler.decode(z, emotions, 32, seed=5, temperature=1.5))
  greedy = sampler.decode(z, emotions, 32, seed=5, temperature=1e-4)
  np.testing.assert_array_equal(
      sampler.decode(z, emotions, 32, seed=6, temperature=1.0, top_p=1e-6), greedy)
  own.steer(top_p=0.9)
  own.steer(None, None, None, None)
  assert own.top_p == 0.9
  with pytest.raises(SampleError, match="top_p"):
    own.steer(top_p=1.5)


def test_sampling_facts_set_the_guidance_and_shift_and_baselines_refuse_guidance():
  sampler = _random_sampler()
  assert (sampler.emotion_guidance, sampler.transfer_shift) == (1.0, 0.0)
  # An export from before the temperature was recorded: what it was sampled with.
  assert sampler.temperature == exports.sampling_settings({})["temperature"]
  steered = Sampler(sampler.hp, sampler.params, {
      "data": sampler.facts,
      "sampling": {"emotion_guidance": 2.5, "transfer_shift": 1.0, "temperature": 0.8}})
  assert (steered.emotion_guidance, steered.transfer_shift, steered.temperature) == (2.5, 1.0, 0.8)
  plain = sampler.sample([1, 2], bars=2, seed=0)
  guided = steered.sample([1, 2], bars=2, seed=0)
  assert not all(np.array_equal(a.events, b.events) for a, b in zip(plain, guided))
  # No temperature given: the model's own; steer() replaces it (and None keeps it).
  own = steered.sample([1, 2], bars=2, seed=0, temperature=0.8)
  assert all(np.array_equal(a.events, b.events) for a, b in zip(guided, own))
  steered.steer(temperature=1.3)
  steered.steer(None, None, None)
  assert steered.temperature == 1.3
  hotter = steered.sample([1, 2], bars=2, seed=0)
  assert all(np.array_equal(a.events, b.events)
             for a, b in zip(hotter, steered.sample([1, 2], bars=2, seed=0, temperature=1.3)))
  baseline = _random_sampler(variant="lstm_lm")
  baseline.emotion_guidance = 2.0
  with pytest.raises(SampleError, match="emotion_guidance=1"):
    baseline.sample([0], bars=1, seed=0)


def test_attention_reach_is_the_models_own_and_reaches_further_only_past_the_trained_window():
  """attention_bars 0 decodes with the window the model trained with (exports from before it was
  recorded too); A bars decodes the same parameters attending over A bars: the melodies of a model
  built with that window, the same as the trained window's while a decode fits in it, others once
  it is longer. Prior samples use the model's own reach; decodes of a given latent (reconstruction,
  transfer, interpolation) the trained window unless told. Only whole bars from 0 up."""
  plain = _random_sampler()
  spb = plain.steps_per_bar
  one_bar = dataclasses.replace(plain.hp, attention_window=spb)  # "trained" with a 1-bar window
  windowed = Sampler(one_bar, plain.params, {"data": plain.facts})
  assert windowed.attention_bars == exports.sampling_settings({})["attention_bars"] == 0
  assert windowed.decoder() is windowed.vae
  reaching = Sampler(one_bar, plain.params, {"data": plain.facts, "sampling": {"attention_bars": 3}})
  assert reaching.attention_bars == 3 and reaching.decoder(3).hp.attention_window == 3 * spb
  three_bars = Sampler(dataclasses.replace(one_bar, attention_window=3 * spb), plain.params,
                       {"data": plain.facts})
  z, emotions = plain.prior(4, seed=1), [0, 1, 2, 3]
  decode = functools.partial(Sampler.decode, z_BxZ=z, emotions_B=emotions, seed=5, temperature=1.5)
  np.testing.assert_array_equal(decode(windowed, num_steps=spb, attention_bars=3),
                                decode(windowed, num_steps=spb))
  np.testing.assert_array_equal(decode(windowed, num_steps=4 * spb, attention_bars=3),
                                decode(three_bars, num_steps=4 * spb))
  assert not np.array_equal(decode(windowed, num_steps=4 * spb, attention_bars=3),
                            decode(windowed, num_steps=4 * spb))
  np.testing.assert_array_equal(decode(reaching, num_steps=4 * spb),  # a latent's decode
                                decode(windowed, num_steps=4 * spb))
  samples = {name: np.stack([m.events for m in sampler.sample(emotions, bars=4, seed=2)])
             for name, sampler in (("reaching", reaching), ("windowed", windowed),
                                   ("three_bars", three_bars))}
  np.testing.assert_array_equal(samples["reaching"], samples["three_bars"])
  assert not np.array_equal(samples["reaching"], samples["windowed"])
  windowed.steer(attention_bars=3)
  windowed.steer(None, None, None, None, None, None, None)
  assert windowed.attention_bars == 3
  np.testing.assert_array_equal(
      np.stack([m.events for m in windowed.sample(emotions, bars=4, seed=2)]), samples["reaching"])
  for wrong in (-1, 1.5):
    with pytest.raises(SampleError, match="whole number of bars"):
      windowed.steer(attention_bars=wrong)


def test_a_long_prior_sample_is_written_in_sections_each_planned_from_its_own_latent():
  """section_bars P: a prior sample longer than P bars is written in sections of P bars. Bar n of
  the plan is bar n - sP of the plan section s's latent alone gives (the last section runs on),
  so the first section is the unsectioned tune's, and the next ones differ. A tune of at most P
  bars, and exports from before it was recorded (P = 0), sample as before."""
  sampler = _random_sampler()
  spb, emotions = sampler.steps_per_bar, [0, 1, 2, 3]
  assert sampler.section_bars == exports.sampling_settings({})["section_bars"] == 0
  z = sampler.prior(4, seed=1, emotions=emotions, sections=3, correlation=0.5)
  assert z.shape == (4, 3, sampler.hp.latent_size)
  np.testing.assert_array_equal(z[:, 0], sampler.prior(4, seed=1, emotions=emotions))

  def plan(module, z, emotion, sectioned):
    embedded = module.emotion_embed(emotion)
    if sectioned:
      return module.decoder._sectioned_plan(z, embedded, 7, 2)
    return module.decoder._plan(z, embedded, 7)

  apply = functools.partial(sampler.vae.apply, {"params": sampler.params["vae"]}, method=plan)
  context, bars, states = apply(jnp.asarray(z), jnp.asarray(emotions), sectioned=True)
  # Equal to float32 rounding: the sectioned plan runs at another shape, which XLA's CPU
  # compiles differently on some machines (1.8e-7 apart on one, bit-equal on another).
  same = functools.partial(np.testing.assert_allclose, rtol=1e-5, atol=1e-6)
  for section in range(3):
    own_context, own_bars, own_states = apply(jnp.asarray(z[:, section]), jnp.asarray(emotions),
                                              sectioned=False)
    for bar in range(2 * section, 7 if section == 2 else 2 * section + 2):
      same(bars[:, bar], own_bars[:, bar - 2 * section])
      same(context[:, bar], own_context)
      for state, own_state in zip(states, own_states):
        same(state[:, bar], own_state[:, bar - 2 * section])
  sectioned = Sampler(sampler.hp, sampler.params,
                      {"data": sampler.facts, "sampling": {"section_bars": 2,
                                                           "section_correlation": 0.5}})
  assert sectioned.sections(2) == 1 and sectioned.sections(5) == 3
  whole = np.stack([m.events for m in sampler.sample(emotions, bars=6, seed=3)])
  parts = np.stack([m.events for m in sectioned.sample(emotions, bars=6, seed=3)])
  np.testing.assert_array_equal(parts[:, :2 * spb], whole[:, :2 * spb])
  assert not np.array_equal(parts[:, 2 * spb:], whole[:, 2 * spb:])
  np.testing.assert_array_equal(  # sample() is decode() of prior()'s section latents
      parts, sampler.decode(sampler.prior(4, seed=3, emotions=emotions, sections=3,
                                          correlation=0.5),
                            emotions, 6 * spb, seed=3, section_bars=2,
                            keys=sampler._keys(3, 4, "decode")))
  for bars in (1, 2):  # no longer than a section: the tune one latent gives
    np.testing.assert_array_equal(
        np.stack([m.events for m in sectioned.sample(emotions, bars=bars, seed=3)]),
        np.stack([m.events for m in sampler.sample(emotions, bars=bars, seed=3)]))


def test_with_tune_bar_positions_each_section_counts_bars_from_its_place_in_the_tune():
  """model.tune_bar_positions: section s of a sectioned plan is the plan of its latent for a
  window starting at the tune's bar s * P (its conductor knows it is in the second half of an
  8-bar period, or the third bar of a phrase), not at bar 0. Sections a multiple of 8 bars long
  (the 16-bar reconstruction sections of the bundled datasets) plan as from bar 0: the
  conductor's bar features repeat every 8 bars."""
  config = runpy.run_path(str(ROOT / "configs" / "tiny.py"))["get_config"](None)
  config.model.tune_bar_positions = True
  spb = events_lib.steps_per_bar(4, 4)
  hp = ModelHParams.from_config(config.model, 4 * spb, spb, spb, 4)
  vae = models_lib.build(hp)
  params = vae.init(jax.random.key(0), jnp.zeros((1, 8), jnp.int32), jnp.full((1,), 8),
                    jnp.full((1,), 4), jnp.zeros((1,), jnp.int32), jax.random.key(1))["params"]
  z = jax.random.normal(jax.random.key(2), (2, 3, hp.latent_size))
  emotions = jnp.asarray([1, 2])

  def plan(module, z, first_bar=None, section_bars=0):
    embedded = module.emotion_embed(emotions)
    if section_bars:
      return module.decoder._sectioned_plan(z, embedded, 7, section_bars)
    return module.decoder._plan(z, embedded, 7, first_bar)

  apply = functools.partial(vae.apply, {"params": params}, method=plan)
  bars = apply(z, section_bars=2)[1]
  same = functools.partial(np.testing.assert_allclose, rtol=1e-5, atol=1e-6)
  for section in range(3):
    from_its_bar = apply(z[:, section], first_bar=jnp.full((2,), 2 * section))[1]
    for bar in range(2 * section, 7 if section == 2 else 2 * section + 2):
      same(bars[:, bar], from_its_bar[:, bar - 2 * section])
  from_bar_0 = apply(z[:, 1])[1]
  assert not np.allclose(bars[:, 2], from_bar_0[:, 0], atol=1e-4)  # bar 2 is told it is bar 2
  np.testing.assert_array_equal(apply(z[:, 0], first_bar=jnp.full((2,), 16))[1],
                                apply(z[:, 0])[1])


def test_decode_places_a_window_in_its_tune_only_for_a_model_that_reads_it():
  """Sampler.decode's first_bars (the harness's greedy decodes of mid-tune windows): a model
  with model.tune_bar_positions decodes a window from bar 4 otherwise than from bar 0, and from
  bar 8 (one 8-bar period on) as from bar 0; for a model without it first_bars changes nothing."""
  plain = _random_sampler()
  z, emotions = plain.prior(4, seed=1), [0, 1, 2, 3]
  np.testing.assert_array_equal(plain.decode(z, emotions, 64, seed=2, first_bars=4),
                                plain.decode(z, emotions, 64, seed=2))
  config = runpy.run_path(str(ROOT / "configs" / "tiny.py"))["get_config"](None)
  config.model.tune_bar_positions = True
  hp = ModelHParams.from_config(config.model, 4 * plain.steps_per_bar, plain.steps_per_bar,
                                plain.steps_per_bar, 4)
  params = models_lib.build(hp).init(
      jax.random.key(0), jnp.zeros((1, 8), jnp.int32), jnp.full((1,), 8), jnp.full((1,), 4),
      jnp.zeros((1,), jnp.int32), jax.random.key(1))["params"]
  placed = Sampler(hp, {"vae": params, "emotion": None}, {"data": plain.facts})
  decode = functools.partial(placed.decode, z, emotions, 64, 2, temperature=1e-4)
  np.testing.assert_array_equal(decode(first_bars=8), decode())
  np.testing.assert_array_equal(decode(first_bars=np.zeros(4, int)), decode())
  assert not np.array_equal(decode(first_bars=4), decode())


def test_section_latents_correlate_as_asked_and_keep_the_priors_distribution():
  """Section s's noise is c * section s-1's + sqrt(1 - c^2) * its own: c = 1 repeats the first
  latent, and for c in (0, 1) neighbouring sections correlate c, sections two apart c^2, each
  with unit variance under N(0, I); with a fitted prior each section's latent is that prior's."""
  sampler = _random_sampler()
  same = sampler.prior(8, seed=0, sections=3, correlation=1.0)
  np.testing.assert_allclose(same[:, 1], same[:, 0], atol=1e-6)
  np.testing.assert_allclose(same[:, 2], same[:, 0], atol=1e-6)
  draws = sampler.prior(4096, seed=0, sections=3, correlation=0.6)
  flat = draws.transpose(1, 0, 2).reshape(3, -1)
  np.testing.assert_allclose(flat.std(axis=1), 1.0, atol=0.02)
  np.testing.assert_allclose(np.corrcoef(flat[0], flat[1])[0, 1], 0.6, atol=0.02)
  np.testing.assert_allclose(np.corrcoef(flat[1], flat[2])[0, 1], 0.6, atol=0.02)
  np.testing.assert_allclose(np.corrcoef(flat[0], flat[2])[0, 1], 0.36, atol=0.02)
  latent = sampler.hp.latent_size
  means = np.stack([np.full(latent, 3.0), np.zeros(latent), np.zeros(latent), np.zeros(latent)])
  scales = np.stack([2.0 * np.eye(latent)] + [np.eye(latent)] * 3)
  sampler.latent_prior = latent_prior_lib.LatentPrior(means, scales, np.full(4, 100))
  sampler.use_prior("fitted")
  fitted = sampler.prior(4096, seed=0, emotions=[0] * 4096, sections=2, correlation=0.6)
  for section in range(2):
    np.testing.assert_allclose(fitted[:, section].mean(), 3.0, atol=0.05)
    np.testing.assert_allclose(fitted[:, section].std(), 2.0, atol=0.05)


def test_section_repeats_state_each_latent_that_many_times_in_a_row():
  """section_repeats R: sections sR .. sR + R - 1 share one latent (R 2: AABB); the first
  section of each part is drawn as R 1 draws that section, correlated with the part before: at
  correlation 0 it is R 1's own section, at c its noise is c * the last part's + sqrt(1 - c^2)
  * R 1's own. R 1, the default and what exports before it was recorded sample with, is the
  chain of correlated sections; in sample(), the model's own repeats plan its sections."""
  sampler = _random_sampler()
  assert sampler.section_repeats == exports.sampling_settings({})["section_repeats"] == 1
  emotions = [0, 1, 2, 3]
  plain = sampler.prior(4, seed=2, emotions=emotions, sections=5, correlation=0.0)
  aabb = sampler.prior(4, seed=2, emotions=emotions, sections=5, correlation=0.0, repeats=2)
  for section, source in enumerate([0, 0, 2, 2, 4]):  # A A B B C
    np.testing.assert_array_equal(aabb[:, section], plain[:, source])
  np.testing.assert_array_equal(
      sampler.prior(4, seed=2, emotions=emotions, sections=5, correlation=0.7, repeats=1),
      sampler.prior(4, seed=2, emotions=emotions, sections=5, correlation=0.7))
  c = 0.6
  linked = sampler.prior(4, seed=2, emotions=emotions, sections=4, correlation=c, repeats=2)
  np.testing.assert_allclose(linked[:, 2], c * linked[:, 1] + np.sqrt(1 - c ** 2) * plain[:, 2],
                             rtol=1e-6, atol=1e-6)
  np.testing.assert_array_equal(linked[:, 3], linked[:, 2])
  spb = sampler.steps_per_bar
  planned = Sampler(sampler.hp, sampler.params,
                    {"data": sampler.facts, "sampling": {"section_bars": 2, "section_repeats": 2,
                                                         "section_correlation": 0.5}})
  np.testing.assert_array_equal(  # sample() decodes the planned latents
      np.stack([m.events for m in planned.sample(emotions, bars=8, seed=3)]),
      sampler.decode(sampler.prior(4, seed=3, emotions=emotions, sections=4, correlation=0.5,
                                   repeats=2),
                     emotions, 8 * spb, seed=3, section_bars=2, keys=sampler._keys(3, 4, "decode")))


def test_quadrant_guidance_guides_each_melody_by_the_quadrant_it_asks_for():
  """quadrant_guidance (happy, tense, sad, calm; 0: emotion_guidance) replaces the model's
  emotion_guidance for the prior samples asked for each quadrant: a batch decodes each melody
  exactly as a decode at its quadrant's guidance alone does; all zero (the default, and what
  exports before it was recorded sample with) is the plain guidance; a guidance given to
  decode() (transfer's, the harness's greedy 1) is used as given; wrong values are refused."""
  sampler = _random_sampler()
  assert sampler.quadrant_guidance == (0.0,) * 4 and sampler.own_quadrant_guidance == {}
  assert [exports.sampling_settings({})[key] for key in exports.QUADRANT_GUIDANCE_KEYS] == [0.0] * 4
  sampler.steer(emotion_guidance=1.5)
  z, emotions, steps = sampler.prior(4, seed=5), [0, 1, 2, 3], 2 * sampler.steps_per_bar
  plain = sampler.decode(z, emotions, steps, seed=4)
  sampler.steer(quadrant_guidance=[0.0, 3.0, 1.0, 0.0])
  assert sampler.quadrant_guidance == (0.0, 3.0, 1.0, 0.0)
  assert sampler.own_quadrant_guidance == {"tense": 3.0, "sad": 1.0}
  guided = sampler.decode(z, emotions, steps, seed=4)
  for row, alone in enumerate([1.5, 3.0, 1.0, 1.5]):
    np.testing.assert_array_equal(
        guided[row], sampler.decode(z[row:row + 1], emotions[row:row + 1], steps, seed=4,
                                    melody_ids=[row], emotion_guidance=alone)[0])
  np.testing.assert_array_equal(guided[[0, 3]], plain[[0, 3]])
  assert not np.array_equal(guided[1], plain[1])
  np.testing.assert_array_equal(  # a guidance given is used as given
      sampler.decode(z, emotions, steps, seed=4, emotion_guidance=1.5), plain)
  own = Sampler(sampler.hp, sampler.params,
                {"data": sampler.facts, "sampling": {"emotion_guidance": 1.5, "guidance_tense": 3.0,
                                                     "guidance_sad": 1.0}})
  np.testing.assert_array_equal(own.decode(z, emotions, steps, seed=4), guided)
  for wrong in ([1.0, 2.0], [1.0, -1.0, 1.0, 1.0], [float("nan")] * 4):
    with pytest.raises(SampleError, match="quadrant guidance takes 4 values"):
      sampler.steer(quadrant_guidance=wrong)


def test_sections_are_steerable_and_wrong_values_are_refused():
  sampler = _random_sampler()
  sampler.steer(section_bars=4, section_correlation=0.25, section_repeats=2)
  sampler.steer(None, None, None, None, None, None, None, None)
  assert (sampler.section_bars, sampler.section_correlation, sampler.section_repeats) == (4, 0.25, 2)
  for wrong in (0, 1.5, float("nan")):
    with pytest.raises(SampleError, match="section_repeats must be a whole number"):
      sampler.steer(section_repeats=wrong)
  for wrong in (-1, 1.5):
    with pytest.raises(SampleError, match="section_bars must be a whole number"):
      sampler.steer(section_bars=wrong)
  for wrong in (-0.1, 1.5, float("nan")):
    with pytest.raises(SampleError, match="section_correlation must lie in"):
      sampler.steer(section_correlation=wrong)
  baseline = _random_sampler(variant="lstm_lm")
  baseline.steer(section_bars=1)
  assert len(baseline.sample([0], bars=1, seed=0)) == 1  # one section: nothing to refuse
  with pytest.raises(SampleError, match="section_bars=1 needs the bar_reset"):
    baseline.sample([0], bars=2, seed=0)


@pytest.mark.parametrize("penalty", ["repeat_penalty", "short_note_penalty"])
def test_a_penalty_is_the_models_own_and_steerable(penalty):
  """Exports from before it was recorded sample without one (1.0); the export's own is used
  unless steered (the other penalty stays 1), and given to decode() it equals steering; below 1
  or NaN is refused on every path (steer, and sample as the sweep calls it)."""
  other = ({"repeat_penalty", "short_note_penalty"} - {penalty}).pop()
  sampler = _random_sampler()
  assert getattr(sampler, penalty) == exports.sampling_settings({})[penalty] == 1.0
  own = Sampler(sampler.hp, sampler.params, {"data": sampler.facts, "sampling": {penalty: 4.0}})
  assert getattr(own, penalty) == 4.0 and getattr(own, other) == 1.0
  z, emotions = sampler.prior(4, seed=1), [0, 1, 2, 3]
  np.testing.assert_array_equal(own.decode(z, emotions, 64, seed=5, temperature=1.5),
                                sampler.decode(z, emotions, 64, seed=5, temperature=1.5,
                                               **{penalty: 4.0}))
  assert not np.array_equal(own.decode(z, emotions, 64, seed=5, temperature=1.5),
                            sampler.decode(z, emotions, 64, seed=5, temperature=1.5))
  own.steer(**{penalty: 2.0})
  own.steer(None, None, None, None, None, None)
  assert getattr(own, penalty) == 2.0
  with pytest.raises(SampleError, match=f"{penalty} must be at least 1"):
    own.steer(**{penalty: 0.5})
  with pytest.raises(SampleError, match=f"{penalty} must be at least 1"):
    own.steer(**{penalty: float("nan")})
  with pytest.raises(SampleError, match=f"{penalty} must be at least 1"):  # the sweep's path
    own.sample([0], bars=1, seed=0, **{penalty: 0.0})


def test_the_latency_benchmark_runs_on_a_model_with_a_fitted_prior(tiny_workdir, tmp_path):
  """hrnnvae-bench latency --export=...: a fitted prior draws a latent per requested emotion, so
  the benchmark asks for emotions before it draws (it used to fail on every shipped model)."""
  sampler = Sampler.load(tiny_workdir / "export")
  assert sampler.prior_kind == "fitted"
  out = tmp_path / "latency.json"
  result = subprocess.run([sys.executable, "-m", "hrnnvae.bench", "latency",
                           f"--export={tiny_workdir / 'export'}", "--bars=2", "--batch_sizes=1,4",
                           "--calls=3", f"--json={out}"], capture_output=True, text=True,
                          env=user_env(), timeout=600)
  assert result.returncode == 0, result.stderr[-3000:]
  rows = json.loads(out.read_text())
  rows = rows["rows"] if isinstance(rows, dict) else rows
  assert [row["batch"] for row in rows] == [1, 4]
  assert all(row["p50_ms"] > 0 and row["steps"] == 2 * sampler.steps_per_bar for row in rows)
  assert all(row["candidates"] == 1 and row["sample_p50_ms"] > 0 for row in rows)
  assert all(row["attention_bars"] == 0 for row in rows)  # the tiny model's own reach
  assert all(row["section_bars"] == 0 for row in rows)  # ... and its one latent
