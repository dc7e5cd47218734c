"""Off-beat sixteenths: how many of a model's tunes put their notes off the eighth-note grid.

Real Nottingham tunes seldom start a note on an odd sixteenth (a test tune's mean share of such
onsets is 0.011, and 4.5% of tunes have more than 10% of their onsets there). A model that loses
the beat puts many notes there in a few tunes: the realism classifier's strongest single block
is onset positions (launch/giveaway_check.py). Per model and temperature: the share of prior
samples (64 an emotion, `--bars` bars, the model's own top-p and guidance) with more than 10% of
their onsets on odd sixteenths, in each requested quadrant, and the mean share; the split's real
spans first. 4/4 (16 steps a bar) only.

  python launch/offbeat_check.py --models=nottingham,runs/i19c/mmdq --cache=runs/nottingham_ship/data
"""

from __future__ import annotations

import json

import numpy as np
from absl import app, flags

from hrnnvae import judge, pretrained
from hrnnvae.data import cache as cache_lib
from hrnnvae.data import emotion as emotion_lib
from hrnnvae.data import events as events_lib
from hrnnvae.evaluation import realism, scoring
from hrnnvae.exports import model_dir
from hrnnvae.sample import Sampler

_MODELS = flags.DEFINE_list("models", None, "Shipped model names or training-run folders.")
_CACHE = flags.DEFINE_string("cache", None, "The prepared cache whose --split is the reference.")
_SPLIT = flags.DEFINE_enum("split", "valid", ["valid", "test"], "The real tunes compared with.")
_TEMPERATURES = flags.DEFINE_list("temperatures", ["0.7", "1.0"], "Sampling temperatures.")
_BARS = flags.DEFINE_integer("bars", 16, "Bars per melody.")
_NUM_SAMPLES = flags.DEFINE_integer("num_samples", 64, "Samples per emotion.")
_JSON = flags.DEFINE_string("json", None, "Also write the rows here.")
STEPS_PER_BAR = 16
OFF_GRID = 0.1  # a tune "off the grid": more than this share of its onsets on odd sixteenths


def offbeat_shares(events_BxT) -> np.ndarray:
  """[B] each melody's share of onsets on an odd sixteenth (0 without onsets)."""
  events_BxT = np.asarray(events_BxT)
  odd_1xT = (np.arange(events_BxT.shape[1]) % 2 == 1)[None]
  onsets = events_BxT >= events_lib.FIRST_PITCH_EVENT
  return (onsets & odd_1xT).sum(1) / np.maximum(onsets.sum(1), 1)


def row(shares, emotions=None) -> dict:
  figures = {"off_grid": float(np.mean(shares > OFF_GRID)), "mean_share": float(np.mean(shares))}
  if emotions is not None:
    for q, name in enumerate(emotion_lib.EMOTIONS):
      asked = shares[emotions == q]
      figures[f"off_grid_{name}"] = float(np.mean(asked > OFF_GRID)) if len(asked) else float("nan")
  return figures


def main(argv):
  del argv
  arrays, manifest = cache_lib.load(_CACHE.value)
  real = realism.real_tunes(arrays, _BARS.value, STEPS_PER_BAR, judge.thresholds_of(manifest),
                            split=_SPLIT.value)
  rows = {f"{_SPLIT.value} set": row(offbeat_shares(real.events))}
  emotions = np.array(scoring.requested_emotions(_NUM_SAMPLES.value))
  for name in _MODELS.value:
    sampler = pretrained.load(name) if "/" not in name else Sampler.load(model_dir(name))
    sampler.use_prior("auto")
    if sampler.steps_per_bar != STEPS_PER_BAR:
      raise app.UsageError(f"{name} is not a 4/4 model")
    for temperature in (float(t) for t in _TEMPERATURES.value):
      melodies = sampler.sample(list(emotions), _BARS.value, 0, temperature)
      rows[f"{name} T={temperature:g}"] = row(offbeat_shares([m.events for m in melodies]),
                                              emotions)
  columns = ["off_grid", *(f"off_grid_{q}" for q in emotion_lib.EMOTIONS), "mean_share"]
  print(f"{'':<34}" + "".join(f"{c:>16}" for c in columns))
  for name, figures in rows.items():
    print(f"{name:<34}" + "".join(f"{figures.get(c, float('nan')):>16.3f}" for c in columns))
  if _JSON.value:
    with open(_JSON.value, "w") as f:
      json.dump(rows, f, indent=1)


if __name__ == "__main__":
  flags.mark_flags_as_required(["models", "cache"])
  app.run(main)
