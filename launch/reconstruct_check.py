"""How well a trained model reconstructs tunes it never saw.

Three checks, the first two at several decoding temperatures:
  windows: the opening 16-bar window of every test-split tune in the model's meter, from the
    cache (Sampler.encode, then Sampler.decode of mu with the tune's own emotion);
  tunes (with --midi_dir): every whole test-split tune read from its MIDI file, exactly as
    `hrnnvae-sample --mode=reconstruct --input_midi=FILE` does it (Sampler.reconstruct: 16-bar
    sections, each its own mu, in the tune's own meter);
  interpolation ends: `--mode=interpolate` between pairs of opening windows, at the model's own
    sampling settings: how much of each input its end of the path keeps.

  python launch/reconstruct_check.py --pretrained=nottingham --cache=runs/nottingham/data \
      --midi_dir="$HRNNVAE_DATASETS/nottingham/MIDI/melody"

Prints the share of steps reproduced exactly (mean over tunes, and the share of tunes at
>= 80%), and the share of tunes whose Krumhansl key (tonic and mode) is kept; then emotion
transfer (issue 9): each window asked for the three other emotions, the judge's agreement with
the request and the steps kept. --json writes them.
"""

from __future__ import annotations

import json
import pathlib

import numpy as np
from absl import app, flags

from hrnnvae import melody_io, pretrained
from hrnnvae.data import cache as cache_lib
from hrnnvae.data import emotion as emotion_lib
from hrnnvae.evaluation import scoring
from hrnnvae.sample import Sampler

_WORKDIR = flags.DEFINE_string("workdir", None, "A training run (its export/ is read).")
_PRETRAINED = flags.DEFINE_string("pretrained", None, "A model shipped in hrnnvae/pretrained/.")
_CACHE = flags.DEFINE_string("cache", None, "The prepared cache whose test split is used.")
_TEMPERATURES = flags.DEFINE_list("temperatures", ["0.0001", "0.5", "1.0"], "Decoding temperatures.")
_SEED = flags.DEFINE_integer("seed", 0, "Sampling seed.")
_MIDI_DIR = flags.DEFINE_string(
    "midi_dir", None, "The source MIDI folder of the whole-tune check, which is skipped without "
    "it (no default), e.g. $HRNNVAE_DATASETS/nottingham/MIDI/melody.")
flags.register_validator(
    "midi_dir", lambda value: value is None or pathlib.Path(value).is_dir(),
    "is not a folder: pass the dataset's MIDI melody folder, e.g. "
    "--midi_dir=\"$HRNNVAE_DATASETS/nottingham/MIDI/melody\" with HRNNVAE_DATASETS set to the "
    "folder that holds nottingham/")
_JSON = flags.DEFINE_string("json", None, "Where to write the figures.")
_GUIDANCE = flags.DEFINE_float("emotion_guidance", None, "Decoder emotion guidance (default: the "
                               "model's own).")
_TRANSFER_SHIFT = flags.DEFINE_float("transfer_shift", None, "Attribute-vector share added in "
                                     "emotion transfer (default: the model's own).")
_TRANSFER_KEEP = flags.DEFINE_float("transfer_keep", None, "Emotion transfer's fidelity to the "
                                    "tune (default: the model's own).")
_TRANSFER_GUIDANCE = flags.DEFINE_float("transfer_guidance", None, "Emotion guidance of the "
                                        "transfers' decodes (default: the model's own).")
_TRANSFER_EDITS = flags.DEFINE_float("transfer_edits", None, "Emotion transfer as edits of the "
                                     "tune: the share of its steps it may change (default: the "
                                     "model's own; 0: a free-running decode).")
_TRANSFER_KEEPS = flags.DEFINE_list(
    "transfer_keeps", None, "Emotion transfer again at each of these fidelities to the tune "
    "(Sampler.transfer_keep; default: the model's own alone), at the first temperature.")
_TRANSFER_SEEDS = flags.DEFINE_list(
    "transfer_seeds", None, "Emotion transfer (and --transfer_keeps) at each of these seeds, the "
    "mean printed with each seed's agreement (scoring.emotion_transfer over a list of seeds; "
    "default: --seed alone). The windows are few: one seed can sit 0.03 from the mean.")
_TRANSFER_SPLIT = flags.DEFINE_enum("transfer_split", "test", ["valid", "test"], "The split "
                                    "whose opening windows emotion transfer moves (its settings "
                                    "are chosen on valid).")


def check(sampler: Sampler, arrays, temperatures, seed: int) -> dict:
  rows = scoring.opening_windows(arrays, sampler.steps_per_bar)
  meter = tuple(sampler.facts["time_signature"])
  events = arrays["events"][rows].astype(np.int64)
  lengths = arrays["lengths"][rows].astype(np.int64)
  spb = np.full(len(rows), sampler.steps_per_bar)
  mu = np.stack([sampler.encode(e[:n], meter) for e, n in zip(events, lengths)])
  own = emotion_lib.melody_features(events, lengths, spb)
  emotions = arrays["emotion"][rows]
  real = np.arange(events.shape[1])[None] < lengths[:, None]
  result = {"tunes": int(len(rows)), "steps_per_bar": sampler.steps_per_bar, "rows": []}
  for temperature in temperatures:
    decoded = sampler.decode(mu, emotions, events.shape[1], seed, temperature)
    match = ((decoded == events) & real).sum(1) / lengths
    features = emotion_lib.melody_features(decoded, lengths, spb)
    same_key = (features.is_major == own.is_major) & (features.key_tonic == own.key_tonic)
    result["rows"].append({"temperature": temperature, "step_match": float(match.mean()),
                           "tunes_at_80_percent": float((match >= 0.8).mean()),
                           "key_kept": float(same_key.mean())})
  return result


def transfer_keeps(sampler: Sampler, arrays, thresholds, temperature: float, keeps, seed,
                   split: str = "test") -> list:
  """Emotion transfer (scoring.emotion_transfer) at each transfer_keep, one temperature: the
  trade-off between the judge's agreement and the steps kept. seed: one, or a list (each row
  the mean over them). The sampler's own keep is restored."""
  own_keep, rows = sampler.transfer_keep, []
  try:
    for keep in keeps:
      sampler.steer(transfer_keep=keep)
      row = scoring.emotion_transfer(sampler, arrays, thresholds, [temperature], seed,
                                     split)["rows"][0]
      rows.append({"transfer_keep": keep, **row})
  finally:
    sampler.steer(transfer_keep=own_keep)
  return rows


def _key(events: np.ndarray, steps_per_bar: int):
  features = emotion_lib.melody_features(events[None], np.array([len(events)]),
                                         np.array([steps_per_bar]))
  return bool(features.is_major[0]), int(features.key_tonic[0])


def check_tunes(sampler: Sampler, manifest: dict, midi_dir: pathlib.Path, temperatures,
                seed: int) -> dict:
  """The whole test-split tunes through Sampler.reconstruct, as the CLI does it."""
  names = sorted(name for name, split in manifest["split_of_piece"].items() if split == "test")
  tunes = []
  for name in names:
    path = midi_dir / f"{name}.mid"
    if path.is_file():
      try:
        tunes.append(melody_io.read_melody(path))
      except Exception as error:  # noqa: BLE001 - counted, not fatal
        print(f"skipped {path}: {error}")
  result = {"tunes": len(tunes), "rows": []}
  for temperature in temperatures:
    matches, keys_kept = [], []
    for events, meter in tunes:
      spb = sampler.bar_steps(meter)
      decoded = sampler.reconstruct(events, meter, [None], seed, temperature)[0]  # as it is
      matches.append(float((decoded == events).mean()))
      keys_kept.append(_key(decoded, spb) == _key(events, spb))
    result["rows"].append({"temperature": temperature, "step_match": float(np.mean(matches)),
                           "tunes_at_80_percent": float(np.mean(np.array(matches) >= 0.8)),
                           "key_kept": float(np.mean(keys_kept))})
  return result


def _print(title: str, result: dict) -> None:
  print(title)
  print(f"{'temperature':>12}{'step match':>12}{'>= 80%':>9}{'key kept':>10}")
  for row in result["rows"]:
    print(f"{row['temperature']:>12g}{row['step_match']:>12.3f}{row['tunes_at_80_percent']:>9.3f}"
          f"{row['key_kept']:>10.3f}")


def _print_transfer(setting: str, rows) -> None:
  """One line per transfer row: the setting it varies, the judge's agreement, the steps kept."""
  print(f"{setting:>14}{'judge agrees':>14}{'step match':>12}  per requested quadrant")
  for row in rows:
    print(f"{row[setting]:>14g}{row['judge_agreement']:>14.3f}{row['step_match']:>12.3f}  "
          + " ".join(f"{k} {v:.2f}" for k, v in row["per_quadrant"].items()) + "; kept "
          + " ".join(f"{k} {v:.2f}" for k, v in row.get("step_match_per_quadrant", {}).items()))
    by_seed = row.get("judge_agreement_by_seed", [])
    if len(by_seed) > 1:
      print(f"{'':>14}by seed: judge " + " / ".join(f"{a:.3f}" for a in by_seed) + "; kept "
            + " / ".join(f"{m:.3f}" for m in row["step_match_by_seed"]))


def main(argv):
  del argv
  if bool(_WORKDIR.value) == bool(_PRETRAINED.value):
    raise app.UsageError("give one of --workdir or --pretrained")
  sampler = (pretrained.load(_PRETRAINED.value) if _PRETRAINED.value
             else Sampler.load(pathlib.Path(_WORKDIR.value) / "export"))
  sampler.steer(_GUIDANCE.value, _TRANSFER_SHIFT.value, transfer_keep=_TRANSFER_KEEP.value,
                transfer_guidance=_TRANSFER_GUIDANCE.value, transfer_edits=_TRANSFER_EDITS.value)
  print(f"emotion guidance {sampler.emotion_guidance:g}, transfer shift {sampler.transfer_shift:g}, "
        f"transfer keep {sampler.transfer_keep:g}, transfer guidance {sampler.transfer_guidance:g}, "
        f"transfer edits {sampler.transfer_edits:g}")
  arrays, manifest = cache_lib.load(_CACHE.value)
  temperatures = [float(t) for t in _TEMPERATURES.value]
  result = {"windows": check(sampler, arrays, temperatures, _SEED.value)}
  _print(f"{result['windows']['tunes']} test tunes, opening 16-bar window "
         f"({result['windows']['steps_per_bar']} steps a bar)", result["windows"])
  ends = result["interpolation_ends"] = scoring.interpolation_ends(sampler, arrays, _SEED.value)
  print(f"interpolation ends ({ends['pairs']} pairs of opening windows, T {ends['temperature']:g}, "
        f"top-p {ends['top_p']:g}): steps kept {ends['step_match']:.3f} (first end "
        f"{ends['first_end']:.3f}, last {ends['last_end']:.3f}); ends at >= 80%: "
        f"{ends['ends_at_80_percent']:.3f}")
  thresholds = emotion_lib.ArousalThresholds(**manifest["arousal_thresholds"])
  transfer_seed = ([int(s) for s in _TRANSFER_SEEDS.value] if _TRANSFER_SEEDS.value
                   else _SEED.value)
  result["transfer"] = scoring.emotion_transfer(sampler, arrays, thresholds, temperatures,
                                                transfer_seed, _TRANSFER_SPLIT.value)
  print(f"emotion transfer: {result['transfer']['tunes']} opening windows, each asked for the "
        f"three other emotions, seeds {result['transfer']['seeds']}")
  _print_transfer("temperature", result["transfer"]["rows"])
  if _TRANSFER_KEEPS.value:
    result["transfer_keeps"] = transfer_keeps(sampler, arrays, thresholds, temperatures[0],
                                              [float(k) for k in _TRANSFER_KEEPS.value],
                                              transfer_seed, _TRANSFER_SPLIT.value)
    print(f"emotion transfer at T {temperatures[0]:g} by fidelity to the tune (transfer_keep)")
    _print_transfer("transfer_keep", result["transfer_keeps"])
  if _MIDI_DIR.value:
    result["tunes"] = check_tunes(sampler, manifest, pathlib.Path(_MIDI_DIR.value), temperatures,
                                  _SEED.value)
    _print(f"{result['tunes']['tunes']} whole test tunes, every meter, as hrnnvae-sample "
           "--mode=reconstruct does it", result["tunes"])
  if _JSON.value:
    pathlib.Path(_JSON.value).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
  flags.mark_flag_as_required("cache")
  app.run(main)
