"""hrnnvae-sample: melodies from a trained model, as MIDI, WAV and piano-roll PNG files.

  hrnnvae-sample --pretrained=nottingham --emotion=happy,sad --num_outputs=4 --bars=16
  hrnnvae-sample --workdir=runs/nottingham --mode=reconstruct --input_midi=tune.mid --emotion=sad
  hrnnvae-sample --checkpoint=RUN/export --mode=interpolate --input_midi_1=a.mid --input_midi_2=b.mid
The model is --workdir (a training run), --checkpoint (its export/ folder) or --pretrained (shipped
in the package). --num_outputs is melodies per requested emotion in every mode: samples,
reconstructions (each with its own sampling noise), or points from the first melody to the second
(ends included). Reconstructions and interpolations keep the input's meter. The temperature,
emotion guidance and transfer shift are the model's own (its config.json's sampling facts) unless
given. Everything goes to
--output_dir (new or empty; --overwrite replaces an earlier output), written whole or not at all,
with manifest.json describing each melody.
"""

from __future__ import annotations

import json
import math
import pathlib

import numpy as np
from absl import flags

from hrnnvae import cli, exports, judge, melody_io, pretrained, progress, render
from hrnnvae import latent_prior as latent_prior_lib
from hrnnvae.data import emotion as emotion_lib
from hrnnvae.sample import SampleError, Sampler, emotion_indices, slerp

TOOL = "hrnnvae-sample"
MODES = ("sample", "reconstruct", "interpolate")
_say = cli.printer(TOOL)

_WORKDIR = flags.DEFINE_string("workdir", None, "A training run's folder (its export/ is read).")
_CHECKPOINT = flags.DEFINE_string(
    "checkpoint", None, "An exported model folder (a run's export/), instead of --workdir.")
_PRETRAINED = flags.DEFINE_string(
    "pretrained", None, "A model shipped in the package (e.g. nottingham), instead of --workdir.")
_MODE = flags.DEFINE_string("mode", "sample", "sample | reconstruct | interpolate.")
_EMOTION = flags.DEFINE_string(
    "emotion", None, "happy, tense, sad, calm or any; comma-separated for several. Default: any "
    "(sample), the input's own (reconstruct and interpolate).")
_TEMPERATURE = flags.DEFINE_float(
    "temperature", None, "Sampling temperature (> 0; lower is more repetitive; default: the "
    "model's own, from its config.json's sampling facts).")
_TOP_P = flags.DEFINE_float(
    "top_p", None, "Nucleus sampling: each note from the most likely events whose probability "
    "reaches it (0 to 1; 1: every event; lower cuts the unlikely tail; default: the model's own).")
_PRIOR = flags.DEFINE_enum("prior", "auto", list(latent_prior_lib.KINDS),
                           "sample: where z comes from: auto (the model's fitted latent prior when "
                           "it has one), fitted, or standard (N(0, I)).")
_GUIDANCE = flags.DEFINE_float(
    "emotion_guidance", None, "How hard the emotion steers each note: 1 none, above 1 further "
    "from a neutral emotion (0 to 10; default: the model's own, from its config.json).")
_PENALTIES = cli.define_penalty_flags()  # repeat_penalty, short_note_penalty
_TRANSFER_SHIFT = flags.DEFINE_float(
    "transfer_shift", None, "reconstruct with another --emotion: the share of the attribute "
    "vector (the fitted prior's emotion means) added to the melody's latent (0 to 3; default: "
    "the model's own).")
_TRANSFER_KEEP = flags.DEFINE_float(
    "transfer_keep", None, "reconstruct with another --emotion: how much each step favours the "
    "melody's own event (added to its logit; 0 none, up to 20; higher keeps more of the tune and "
    "moves the emotion less; default: the model's own).")
_TRANSFER_GUIDANCE = flags.DEFINE_float(
    "transfer_guidance", None, "reconstruct with another --emotion: the emotion guidance of the "
    "moved sections' decode (0 to 10; default: the model's own).")
_TRANSFER_EDITS = flags.DEFINE_float(
    "transfer_edits", None, "reconstruct with another --emotion: edit the melody instead of "
    "decoding it afresh, changing at most this share of its steps, those the model most wants "
    "changed for the emotion (0 to 1; 0: off; default: the model's own).")
_TRANSFER_ADAPTER = flags.DEFINE_bool(
    "transfer_adapter", None, "reconstruct with another --emotion: decode the moved sections "
    "through the model's transfer adapter, keeping the tune's bars' latents (default: when the "
    "model has one; --notransfer_adapter moves them as a model without one does).")
_CANDIDATES = flags.DEFINE_integer(
    "candidates", None, "sample: prior samples drawn for each melody written, the model's realism "
    "critic keeping one (1 to 64; 1: plain sampling; default: the model's own).")
_ATTENTION_BARS = flags.DEFINE_integer(
    "attention_bars", None, "sample: bars the decoder attends over as it writes (0 to 64; 0: "
    "the window it trained with; 8 reaches the matching bar of the previous 8-bar phrase; "
    "default: the model's own). Reconstructions keep the trained window.")
_SECTION_BARS = flags.DEFINE_integer(
    "section_bars", None, "sample: a melody longer than this many bars is written in sections of "
    "that many, each planned from its own latent (0 to 512; 0: one latent; default: the model's "
    "own).")
_SECTION_CORRELATION = flags.DEFINE_float(
    "section_correlation", None, "sample: how much a section's latent correlates with the one "
    "before (0 to 1; 0: drawn afresh; default: the model's own).")
_QUADRANT_GUIDANCE = flags.DEFINE_list(
    "quadrant_guidance", None, "sample: emotion guidance of the melodies asked for each quadrant, "
    "happy,tense,sad,calm (0 to 10 each; 0: --emotion_guidance; default: the model's own).")
_SECTION_REPEATS = flags.DEFINE_integer(
    "section_repeats", None, "sample: how many sections in a row state one latent (1 to 16; 1: "
    "each its own; 2 with --section_bars=8 writes 32 bars as AABB; default: the model's own).")
_BARS = flags.DEFINE_integer("bars", 32, "sample: bars per melody (1 to 512).")
_SEED = flags.DEFINE_integer("seed", 0, "Random seed (0 to 2**32 - 1): the same seed gives the "
                             "same melodies.")
_NUM_OUTPUTS = flags.DEFINE_integer(
    "num_outputs", None, "Melodies per requested emotion (interpolate: points on the path, ends "
    "included). Default 1, or 5 for interpolate.")
_TEMPO = flags.DEFINE_float("tempo", None, "Quarter notes per minute, 10 to 1000 (default: the "
                            "data's).")
_INPUT_MIDI = flags.DEFINE_string("input_midi", None, "reconstruct: the melody to encode.")
_INPUT_MIDI_1 = flags.DEFINE_string("input_midi_1", None, "interpolate: the first melody.")
_INPUT_MIDI_2 = flags.DEFINE_string("input_midi_2", None, "interpolate: the second melody.")
_OUTPUT_DIR = flags.DEFINE_string("output_dir", "samples", "Where the files go (new or empty).")
_OVERWRITE = flags.DEFINE_bool("overwrite", False, "Replace an earlier hrnnvae-sample output in "
                               "--output_dir.")
_AUDIO = flags.DEFINE_bool("audio", True, "Also render WAV files.")
FLAG_NAMES = ["workdir", "checkpoint", "pretrained", "mode", "emotion", "num_outputs", "prior",
              "emotion_guidance", "repeat_penalty", "short_note_penalty", "transfer_shift",
              "transfer_keep", "transfer_guidance", "transfer_edits", "transfer_adapter", "candidates",
              "attention_bars",
              "section_bars", "section_correlation", "section_repeats", "quadrant_guidance",
              "bars",
              "temperature", "top_p", "seed", "tempo", "input_midi", "input_midi_1", "input_midi_2",
              "output_dir", "overwrite", "audio"]


def _num_outputs() -> int:
  default = 5 if _MODE.value == "interpolate" else 1
  return default if _NUM_OUTPUTS.value is None else _NUM_OUTPUTS.value


def _check_flags() -> tuple[pathlib.Path, list[float] | None]:
  """Every flag mistake, before any model is loaded or file written; returns the output folder
  and --quadrant_guidance's four numbers (None when not given)."""
  mode = _MODE.value
  if mode not in MODES:
    raise cli.UsageError(f"unknown --mode={mode!r}: choose {', '.join(MODES)}")
  if sum(bool(f.value) for f in (_WORKDIR, _CHECKPOINT, _PRETRAINED)) > 1:
    raise cli.UsageError("--workdir, --checkpoint and --pretrained exclude each other: pass one")
  cli.check_range("temperature", _TEMPERATURE.value, low=0.0, low_open=True, high=100.0)
  cli.check_range("top_p", _TOP_P.value, low=0.0, low_open=True, high=1.0)
  cli.check_range("tempo", _TEMPO.value, low=10.0, high=1000.0)
  cli.check_range("emotion_guidance", _GUIDANCE.value, low=0.0, high=10.0)
  cli.check_penalty_flags(_PENALTIES)
  cli.check_range("transfer_shift", _TRANSFER_SHIFT.value, low=0.0, high=3.0)
  cli.check_range("transfer_keep", _TRANSFER_KEEP.value, low=0.0, high=20.0)
  cli.check_range("transfer_guidance", _TRANSFER_GUIDANCE.value, low=0.0, high=10.0)
  cli.check_range("transfer_edits", _TRANSFER_EDITS.value, low=0.0, high=1.0)
  cli.check_range("candidates", _CANDIDATES.value, low=1, high=64)
  cli.check_range("attention_bars", _ATTENTION_BARS.value, low=0, high=64)
  cli.check_range("section_bars", _SECTION_BARS.value, low=0, high=512)
  cli.check_range("section_correlation", _SECTION_CORRELATION.value, low=0.0, high=1.0)
  cli.check_range("section_repeats", _SECTION_REPEATS.value, low=1, high=16)
  quadrant_guidance = _quadrant_guidance()  # checked here, before any model is loaded
  cli.check_range("bars", _BARS.value, low=1, high=512)
  cli.check_range("seed", _SEED.value, low=0, high=cli.MAX_SEED)
  cli.check_range("num_outputs", _num_outputs(), low=2 if mode == "interpolate" else 1, high=1024)
  if _EMOTION.value:
    emotion_indices(_EMOTION.value, 1, np.random.default_rng(0))  # unknown names fail here
  needed = {"reconstruct": [_INPUT_MIDI], "interpolate": [_INPUT_MIDI_1, _INPUT_MIDI_2]}.get(mode, [])
  for holder in needed:
    if not holder.value:
      raise cli.UsageError(f"--mode={mode} needs --{holder.name}=FILE")
    if not pathlib.Path(holder.value).is_file():
      raise cli.UsageError(f"--{holder.name}={holder.value}: no such file")
  return cli.check_output_dir(_OUTPUT_DIR.value, "output_dir", _OVERWRITE.value, TOOL,
                              "manifest.json"), quadrant_guidance


def _quadrant_guidance() -> list[float] | None:
  """--quadrant_guidance's four numbers (None when not given); UsageError unless four in [0, 10]."""
  if _QUADRANT_GUIDANCE.value is None:
    return None
  try:
    guidances = [float(g) for g in _QUADRANT_GUIDANCE.value]
  except ValueError:
    guidances = []
  if len(guidances) != 4 or not all(0.0 <= g <= 10.0 for g in guidances):
    raise cli.UsageError(f"--quadrant_guidance takes four numbers from 0 to 10 (happy,tense,sad,"
                         f"calm; 0: --emotion_guidance), not {','.join(_QUADRANT_GUIDANCE.value)}")
  return guidances


def _load(quadrant_guidance: list[float] | None) -> Sampler:
  """The model that --workdir, --checkpoint or --pretrained names, able to do --mode, steered by
  the flags (quadrant_guidance: --quadrant_guidance as _check_flags read it)."""
  sampler = pretrained.load_chosen(_PRETRAINED.value, _WORKDIR.value or _CHECKPOINT.value)
  if sampler.has_encoder:
    sampler.use_prior(_PRIOR.value)
  elif _PRIOR.value == "fitted":
    raise SampleError(f"{sampler.export_dir} is a {sampler.hp.family} model: it has no latent")
  sampler.steer(_GUIDANCE.value, _TRANSFER_SHIFT.value, _TEMPERATURE.value, _TOP_P.value,
                **{name: holder.value for name, holder in _PENALTIES.items()},
                candidates=_CANDIDATES.value, attention_bars=_ATTENTION_BARS.value,
                section_bars=_SECTION_BARS.value, section_correlation=_SECTION_CORRELATION.value,
                transfer_keep=_TRANSFER_KEEP.value, transfer_guidance=_TRANSFER_GUIDANCE.value,
                transfer_edits=_TRANSFER_EDITS.value,
                use_transfer_adapter=_TRANSFER_ADAPTER.value,
                section_repeats=_SECTION_REPEATS.value,
                quadrant_guidance=quadrant_guidance)
  if _MODE.value != "sample" and not sampler.has_encoder:
    raise SampleError(f"{sampler.export_dir} is a {sampler.hp.family} model, which has no "
                      f"encoder: it can only --mode=sample, not --mode={_MODE.value}")
  return sampler


def _generate(sampler: Sampler) -> tuple[list[np.ndarray], list[int], dict]:
  """(melodies, their conditioning emotions, request facts) for the chosen mode."""
  mode, seed, count = _MODE.value, _SEED.value, _num_outputs()
  rng = np.random.default_rng(seed)
  if mode == "sample":
    emotions = emotion_indices(_EMOTION.value or "any", count, rng)
    _say(f"sampling {len(emotions)} melodies of {_BARS.value} bars")
    melodies = sampler.sample(emotions, _BARS.value, seed)
    return [m.events for m in melodies], emotions, {}
  if mode == "reconstruct":
    events, meter = melody_io.read_melody(_INPUT_MIDI.value)
    own = _own_emotion(sampler, events, meter)
    # Without --emotion each section is reconstructed as it is (its own emotion); with it, the
    # sections of another emotion are moved to it (emotion transfer).
    asked = emotion_indices(_EMOTION.value, count, rng) if _EMOTION.value else [None] * count
    emotions = [own if emotion is None else emotion for emotion in asked]
    _say(f"reconstructing {_INPUT_MIDI.value} ({len(events)} steps, "
         f"{meter[0]}/{meter[1]}) {len(emotions)} times")
    return sampler.reconstruct(events, meter, asked, seed), emotions, {
        "input_midi": _INPUT_MIDI.value, "input_emotion": emotion_lib.EMOTIONS[own],
        "time_signature": list(meter)}
  (first, meter_1), (second, meter_2) = map(melody_io.read_melody,
                                            (_INPUT_MIDI_1.value, _INPUT_MIDI_2.value))
  names = emotion_indices(_EMOTION.value, 1, rng) if _EMOTION.value else [
      _own_emotion(sampler, first, meter_1)]
  spb = sampler.bar_steps(meter_1)  # the path is written in the first melody's meter
  path = slerp(sampler.encode(first, meter_1), sampler.encode(second, meter_2),
               np.linspace(0.0, 1.0, count))
  steps = math.ceil(max(len(first), len(second)) / spb) * spb
  _say(f"interpolating in {count} points, {steps // spb} bars each, for {len(names)} emotion(s)")
  melodies, emotions = [], []
  for emotion in names:
    melodies += list(sampler.decode(path, [emotion] * count, steps, seed, steps_per_bar=spb))
    emotions += [emotion] * count
  return melodies, emotions, {"input_midi_1": _INPUT_MIDI_1.value,
                              "input_midi_2": _INPUT_MIDI_2.value, "time_signature": list(meter_1)}


def _own_emotion(sampler: Sampler, events: np.ndarray, meter: tuple[int, int]) -> int:
  """The judge's label of a melody in `meter`, with the thresholds of the model's training data."""
  return int(judge.labels([events], sampler.bar_steps(meter), judge.thresholds_of(sampler.facts))[0])


def _write(sampler: Sampler, melodies, emotions, request: dict, out: pathlib.Path) -> None:
  """Every melody's files and manifest.json, into `out` (a staging folder)."""
  qpm = _TEMPO.value or sampler.facts["qpm"]
  meter = tuple(request.get("time_signature", sampler.facts["time_signature"]))
  steps_per_bar = sampler.bar_steps(meter)
  verdicts = sampler.classify(np.stack(melodies))
  entries = []
  heartbeat = progress.Heartbeat("writing", len(melodies), "melodies", _say)
  for index, (events, emotion) in enumerate(zip(melodies, emotions)):
    name = f"{_MODE.value}_{index:03d}_{emotion_lib.EMOTIONS[emotion]}"
    sequence = render.write_midi(events, out / f"{name}.mid", qpm, meter)
    synth = render.write_wav(sequence, out / f"{name}.wav") if _AUDIO.value else None
    render.write_piano_roll(events, out / f"{name}.png", steps_per_bar,
                            f"{name}: {emotion_lib.EMOTIONS[emotion]}, {len(events)} steps")
    entries.append({
        "name": name, "files": [f"{name}.mid"] + ([f"{name}.wav"] if synth else []) + [f"{name}.png"],
        "emotion": emotion_lib.EMOTIONS[emotion],
        "classifier_verdict": emotion_lib.EMOTIONS[int(verdicts[index].argmax())],
        "classifier_probabilities": dict(zip(emotion_lib.EMOTIONS, verdicts[index].round(4).tolist())),
        "feature_emotion": emotion_lib.EMOTIONS[_own_emotion(sampler, events, meter)],
        "audio_synth": synth, **render.summary(events, steps_per_bar)})
    heartbeat()
  manifest = {"mode": _MODE.value, "seed": _SEED.value, "temperature": sampler.temperature,
              "top_p": sampler.top_p,
              "prior": sampler.prior_kind, "emotion_guidance": sampler.emotion_guidance,
              "repeat_penalty": sampler.repeat_penalty,
              "short_note_penalty": sampler.short_note_penalty,
              "transfer_shift": sampler.transfer_shift,
              "transfer_keep": sampler.transfer_keep,
              "transfer_guidance": sampler.transfer_guidance,
              "transfer_edits": sampler.transfer_edits,
              "transfer_adapter": sampler.use_transfer_adapter, "candidates": sampler.candidates,
              "attention_bars": sampler.attention_bars, "section_bars": sampler.section_bars,
              "section_correlation": sampler.section_correlation,
              "section_repeats": sampler.section_repeats,
              "quadrant_guidance": list(sampler.quadrant_guidance),
              "num_outputs": _num_outputs(), "qpm": qpm, "time_signature": list(meter),
              "checkpoint": str(sampler.export_dir), "pretrained": _PRETRAINED.value,
              "checkpoint_step": sampler.description["step"], "request": request,
              "config": sampler.description["config"], "melodies": entries}
  (out / "manifest.json").write_text(json.dumps(manifest, indent=1))


def main(argv):
  if len(argv) > 1:
    raise cli.UsageError(f"unexpected arguments: {argv[1:]}")
  exports.quiet_orbax_logging()
  try:
    out, quadrant_guidance = _check_flags()
    sampler = _load(quadrant_guidance)
    melodies, emotions, request = _generate(sampler)
    with cli.staged_output_dir(out) as stage:
      _write(sampler, melodies, emotions, request, stage)
  except (SampleError, melody_io.MidiError) as error:
    raise cli.UsageError(error) from error
  print(f"wrote {len(melodies)} melodies (MIDI, {'WAV, ' if _AUDIO.value else ''}PNG) to {out}; "
        f"see {out / 'manifest.json'}")


def run():
  cli.run(main, TOOL, __doc__, FLAG_NAMES)


if __name__ == "__main__":
  run()
