"""hrnnvae-sample: melodies from a trained model, as MIDI, WAV and piano-roll PNG files.

  hrnnvae-sample --workdir=runs/nottingham --emotion=happy,sad --num_outputs=4 --bars=32
  hrnnvae-sample --pretrained=nottingham --emotion=sad   # the model shipped in the package
  hrnnvae-sample --workdir=runs/nottingham --mode=reconstruct --input_midi=tune.mid --emotion=sad
  hrnnvae-sample --workdir=runs/nottingham --mode=interpolate --input_midi_1=a.mid \
      --input_midi_2=b.mid --steps=5
Everything goes to --output_dir, with manifest.json describing each melody.
"""

from __future__ import annotations

import json
import math
import pathlib
import sys

import numpy as np
import tqdm
from absl import app, flags

from hrnnvae import pretrained, render
from hrnnvae.data import emotion as emotion_lib
from hrnnvae.sample import SampleError, Sampler, emotion_indices, slerp
from hrnnvae.train import checkpoints

_WORKDIR = flags.DEFINE_string("workdir", None, "A training workdir (its export/ is read).")
_PRETRAINED = flags.DEFINE_string(
    "pretrained", None, "A model shipped in the package (e.g. nottingham), instead of --workdir.")
_MODE = flags.DEFINE_string("mode", "sample", "sample | reconstruct | interpolate.")
_EMOTION = flags.DEFINE_string(
    "emotion", None, "happy, tense, sad, calm or any; comma-separated for several. Default: any "
    "(sample), the input's own (reconstruct and interpolate).")
_TEMPERATURE = flags.DEFINE_float("temperature", 1.0, "Sampling temperature (> 0).")
_BARS = flags.DEFINE_integer("bars", 32, "Bars per sampled melody.")
_SEED = flags.DEFINE_integer("seed", 0, "Random seed: the same seed gives the same melodies.")
_NUM_OUTPUTS = flags.DEFINE_integer("num_outputs", 1, "Melodies per requested emotion.")
_TEMPO = flags.DEFINE_float("tempo", None, "Quarter notes per minute (default: the data's).")
_INPUT_MIDI = flags.DEFINE_string("input_midi", None, "reconstruct: the melody to encode.")
_INPUT_MIDI_1 = flags.DEFINE_string("input_midi_1", None, "interpolate: the first melody.")
_INPUT_MIDI_2 = flags.DEFINE_string("input_midi_2", None, "interpolate: the second melody.")
_STEPS = flags.DEFINE_integer("steps", 5, "interpolate: melodies from the first to the second.")
_OUTPUT_DIR = flags.DEFINE_string("output_dir", "samples", "Where the files go.")
_AUDIO = flags.DEFINE_bool("audio", True, "Also render WAV files.")


def _load() -> Sampler:
  """The model that exactly one of --workdir and --pretrained names."""
  if _WORKDIR.value and _PRETRAINED.value:
    raise SampleError("--workdir and --pretrained exclude each other: pass one")
  if _PRETRAINED.value:
    return pretrained.load(_PRETRAINED.value)
  if _WORKDIR.value:
    return Sampler.load(pathlib.Path(_WORKDIR.value) / "export")
  shipped = ", ".join(pretrained.available()) or "none shipped yet"
  raise SampleError("pass --workdir=DIR (the folder `hrnnvae-train --workdir=...` wrote) or "
                    f"--pretrained=NAME (a model shipped in the package: {shipped})")


def _generate(sampler: Sampler) -> tuple[list[np.ndarray], list[int], dict]:
  """(melodies, their conditioning emotions, request facts) for the chosen mode."""
  mode, seed, temperature = _MODE.value, _SEED.value, _TEMPERATURE.value
  rng = np.random.default_rng(seed)
  if temperature <= 0:
    raise SampleError(f"--temperature must be positive, not {temperature}")
  if mode == "sample":
    if _NUM_OUTPUTS.value < 1:
      raise SampleError(f"--num_outputs must be at least 1, not {_NUM_OUTPUTS.value}")
    emotions = emotion_indices(_EMOTION.value or "any", _NUM_OUTPUTS.value, rng)
    melodies = sampler.sample(emotions, _BARS.value, seed, temperature)
    return [m.events for m in melodies], emotions, {}
  if mode == "reconstruct":
    if not _INPUT_MIDI.value:
      raise SampleError("--mode=reconstruct needs --input_midi=FILE")
    events, meter = sampler.read_melody(_INPUT_MIDI.value)
    emotions = (emotion_indices(_EMOTION.value, 1, rng) if _EMOTION.value
                else [sampler.own_emotion(events, meter)])
    return sampler.reconstruct(events, meter, emotions, seed, temperature), emotions, {
        "input_midi": _INPUT_MIDI.value, "input_emotion": emotion_lib.EMOTIONS[
            sampler.own_emotion(events, meter)], "time_signature": list(meter)}
  if mode == "interpolate":
    if not (_INPUT_MIDI_1.value and _INPUT_MIDI_2.value):
      raise SampleError("--mode=interpolate needs --input_midi_1=FILE and --input_midi_2=FILE")
    if _STEPS.value < 2:
      raise SampleError(f"--steps must be at least 2 (the two ends), not {_STEPS.value}")
    (first, meter_1), (second, meter_2) = map(sampler.read_melody,
                                              (_INPUT_MIDI_1.value, _INPUT_MIDI_2.value))
    emotion = (emotion_indices(_EMOTION.value, 1, rng)[0] if _EMOTION.value
               else sampler.own_emotion(first, meter_1))
    z = slerp(sampler.encode(first, meter_1), sampler.encode(second, meter_2),
              np.linspace(0.0, 1.0, _STEPS.value))
    steps = _whole_bars(max(len(first), len(second)), sampler)
    emotions = [emotion] * _STEPS.value
    return list(sampler.decode(z, emotions, steps, seed, temperature)), emotions, {
        "input_midi_1": _INPUT_MIDI_1.value, "input_midi_2": _INPUT_MIDI_2.value}
  raise SampleError(f"unknown --mode={mode!r}: choose sample, reconstruct or interpolate")


def _whole_bars(num_steps: int, sampler: Sampler) -> int:
  return math.ceil(num_steps / sampler.steps_per_bar) * sampler.steps_per_bar


def _write(sampler: Sampler, melodies, emotions, request: dict) -> pathlib.Path:
  out = pathlib.Path(_OUTPUT_DIR.value)
  out.mkdir(parents=True, exist_ok=True)
  qpm = _TEMPO.value or sampler.facts["qpm"]
  meter = tuple(request.get("time_signature", sampler.facts["time_signature"]))
  steps_per_bar = sampler.bar_steps(meter)
  verdicts = sampler.classify(np.stack(melodies))
  entries = []
  for index, (events, emotion) in enumerate(tqdm.tqdm(list(zip(melodies, emotions)),
                                                      desc="writing", unit="melody")):
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
        "feature_emotion": emotion_lib.EMOTIONS[sampler.own_emotion(events, meter)],
        "audio_synth": synth, **render.summary(events, steps_per_bar)})
  manifest = {"mode": _MODE.value, "seed": _SEED.value, "temperature": _TEMPERATURE.value,
              "qpm": qpm, "time_signature": list(meter), "checkpoint": str(sampler.export_dir),
              "pretrained": _PRETRAINED.value,
              "checkpoint_step": sampler.description["step"], "request": request,
              "config": sampler.description["config"], "melodies": entries}
  (out / "manifest.json").write_text(json.dumps(manifest, indent=1))
  return out


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  checkpoints.quiet_orbax_logging()
  try:
    sampler = _load()
    melodies, emotions, request = _generate(sampler)
    out = _write(sampler, melodies, emotions, request)
  except SampleError as error:
    print(f"hrnnvae-sample: {error}", file=sys.stderr)
    sys.exit(2)
  print(f"wrote {len(melodies)} melodies (MIDI, {'WAV, ' if _AUDIO.value else ''}PNG) to {out}; "
        f"see {out / 'manifest.json'}")


def run():
  app.run(main)


if __name__ == "__main__":
  run()
