"""How much of a realism figure is the mix of emotions asked for, and how each quadrant's rhythm
compares with the real tunes of that quadrant (issue 19).

The harness asks a model for as many samples of each quadrant, but real tunes are not spread so
(Nottingham: about half happy, 3% tense). Real tunes against real tunes, each side's windows
from other tunes:
  same shares    the training split's tunes drawn in the reference's quadrant shares against
                 --split's tunes (the reference, in the data's own mix): about 0.5;
  equal shares   the training split's tunes drawn in equal shares, as a model's samples are
                 asked for, against the same reference: what the mix alone lets the feature
                 classifier tell.
With --models, each model's prior samples (num_samples per emotion, the model's own settings):
  overall and real_mix (realism.in_real_mix: drawn down to the reference's shares), and per
  requested quadrant the share of notes lasting one step and the notes per bar, beside the
  reference tunes the judge labels with that quadrant.

  python launch/quadrant_mix_check.py --cache=runs/nottingham/data --split=valid \
      [--models=nottingham,runs/lever_a] [--bars=16] [--json=out.json]
"""

from __future__ import annotations

import json

import numpy as np
from absl import app, flags

from hrnnvae import judge, pretrained
from hrnnvae.data import cache as cache_lib
from hrnnvae.data import emotion as emotion_lib
from hrnnvae.evaluation import realism, scoring

_MODELS = flags.DEFINE_list("models", [], "Shipped model names or training-run folders.")
_CACHE = flags.DEFINE_string("cache", None, "The prepared cache.")
_SPLIT = flags.DEFINE_enum("split", "valid", ["valid", "test"], "The reference's real tunes.")
_BARS = flags.DEFINE_integer("bars", 16, "Bars per window and sample.")
_NUM_SAMPLES = flags.DEFINE_integer("num_samples", 64, "Samples per emotion.")
_SEED = flags.DEFINE_integer("seed", 0, "Sampling seed.")
_DRAWN = flags.DEFINE_integer("drawn", 400, "Training windows drawn for each real-side row.")
_JSON = flags.DEFINE_string("json", None, "Also write the rows here.")

REPEATS = 3


def drawn_in_shares(melodies: realism.Melodies, shares: np.ndarray, count: int,
                    rng: np.random.Generator) -> realism.Melodies:
  """About `count` of melodies drawn without replacement in the quadrant shares given (each
  quadrant's draw capped at what it has)."""
  keep = [rng.choice(np.nonzero(melodies.quadrants == q)[0],
                     min(int(round(shares[q] * count)), int((melodies.quadrants == q).sum())),
                     replace=False) for q in range(len(emotion_lib.EMOTIONS))]
  return melodies.subset(np.sort(np.concatenate(keep)).astype(np.int64))


def shares_of(melodies: realism.Melodies) -> np.ndarray:
  return np.bincount(melodies.quadrants, minlength=len(emotion_lib.EMOTIONS)) / len(melodies.quadrants)


def accuracy(generated: realism.Melodies, real: realism.Melodies, steps_per_bar: int) -> dict:
  """{subset: the feature classifier's accuracy} (realism.model_rows: overall, real_mix and
  each quadrant, REPEATS cross-validations)."""
  return {row["subset"]: row["accuracy"] for row in realism.model_rows(
      generated, real, steps_per_bar, repeats=REPEATS, classifiers=("features",))}


def rhythm(melodies: realism.Melodies, steps_per_bar: int) -> dict:
  """Per quadrant: the mean share of notes lasting one step and the mean notes per bar."""
  columns = realism.feature_columns(melodies.events, steps_per_bar,
                                    ["note_length/1 steps", "register/notes per bar"])
  one_step, per_bar = columns["note_length/1 steps"], columns["register/notes per bar"]
  result = {}
  for q, name in enumerate(emotion_lib.EMOTIONS):
    chosen = melodies.quadrants == q
    result[name] = ({"melodies": int(chosen.sum()), "one_step_notes": float(one_step[chosen].mean()),
                     "notes_per_bar": float(per_bar[chosen].mean())} if chosen.any() else
                    {"melodies": 0})
  return result


def main(argv):
  del argv
  arrays, manifest = cache_lib.load(_CACHE.value)
  thresholds = judge.thresholds_of(manifest)
  samplers = {model: pretrained.load_model(model) for model in _MODELS.value}
  # The models' bar (the harness's rule: real windows in the bar a model samples), else the
  # data's most common one.
  bars_of = {sampler.steps_per_bar for sampler in samplers.values()}
  if len(bars_of) > 1:
    raise app.UsageError(f"the models sample bars of different lengths {sorted(bars_of)}: "
                         "check them one at a time")
  steps_per_bar = bars_of.pop() if bars_of else int(np.bincount(arrays["steps_per_bar"]).argmax())
  reference = realism.real_tunes(arrays, _BARS.value, steps_per_bar, thresholds, split=_SPLIT.value)
  training = realism.real_tunes(arrays, _BARS.value, steps_per_bar, thresholds, split="train")
  rng = np.random.default_rng(_SEED.value)
  shares = shares_of(reference)
  equal = np.full(len(shares), 1.0 / len(shares))
  rows = {"reference": {"split": _SPLIT.value, "windows": len(reference.events),
                        "shares": shares.round(3).tolist(), "rhythm": rhythm(reference, steps_per_bar)},
          "real, same shares": accuracy(drawn_in_shares(training, shares, _DRAWN.value, rng),
                                        reference, steps_per_bar)["overall"],
          "real, equal shares": accuracy(drawn_in_shares(training, equal, _DRAWN.value, rng),
                                         reference, steps_per_bar)["overall"]}
  print(f"{_SPLIT.value} tunes: {len(reference.events)} windows of {_BARS.value} bars, quadrant "
        f"shares {dict(zip(emotion_lib.EMOTIONS, shares.round(3).tolist()))}")
  print(f"training tunes in the same shares against them: {rows['real, same shares']:.3f}")
  print(f"training tunes in equal shares against them:    {rows['real, equal shares']:.3f}")
  for model, sampler in samplers.items():
    sampler.use_prior("auto")
    requested = scoring.requested_emotions(_NUM_SAMPLES.value)
    melodies = [m.events for m in sampler.sample(requested, _BARS.value, _SEED.value)]
    generated = realism.generated_melodies(melodies, requested)
    found = accuracy(generated, reference, steps_per_bar)
    rows[model] = {"overall": found["overall"], "real_mix": found["real_mix"],
                   "rhythm": rhythm(generated, steps_per_bar)}
    print(f"{model}: overall {rows[model]['overall']:.3f}, real_mix {rows[model]['real_mix']:.3f}")
  for name, row in [("reference", rows["reference"])] + [(m, rows[m]) for m in _MODELS.value]:
    print(f"{name:<12} " + "  ".join(
        f"{q}: {r['one_step_notes']:.3f} one-step, {r['notes_per_bar']:.2f}/bar" if r["melodies"]
        else f"{q}: -" for q, r in row["rhythm"].items()))
  if _JSON.value:
    with open(_JSON.value, "w") as f:
      json.dump({"cache": _CACHE.value, "bars": _BARS.value, "seed": _SEED.value, "rows": rows}, f,
                indent=1)


if __name__ == "__main__":
  flags.mark_flag_as_required("cache")
  app.run(main)
