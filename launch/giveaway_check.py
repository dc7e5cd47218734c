"""What gives a model's samples away (issue 19): the realism feature classifier one block of
features at a time, model by model, at each length, against a split's real tunes.

For each model: num_samples prior samples per emotion (seed 0, the model's own sampling
settings and prior), at each of --bars, against the split's real tunes in the model's bar
(realism.real_tunes), the samples drawn down to the real tunes' quadrant shares (--mix=real;
--mix=asked keeps them as asked, the quadrants alike); realism.what_gives_them_away's rows,
most telling block first, with the block's most different feature and its mean on each side.

  python launch/giveaway_check.py --cache=runs/nottingham/data --split=valid \
      --models=nottingham,runs/lever_a [--bars=16,32] [--json=out.json]
A model is a name shipped in hrnnvae/pretrained/ or a training run's folder (its export/ is read).
Choose levers on --split=valid; the harness (hrnnvae-eval) reports the same on the test split.
"""

from __future__ import annotations

import json
import pathlib

from absl import app, flags

from hrnnvae import judge, pretrained
from hrnnvae.data import cache as cache_lib
from hrnnvae.evaluation import realism, scoring

_MODELS = flags.DEFINE_list("models", None, "Shipped model names or training-run folders.")
_CACHE = flags.DEFINE_string("cache", None, "The prepared cache whose --split is the reference.")
_SPLIT = flags.DEFINE_enum("split", "valid", ["train", "valid", "test"],
                            "The real tunes compared with (train: tunes nothing was chosen on).")
_BARS = flags.DEFINE_list("bars", ["16", "32"], "Lengths in bars.")
_NUM_SAMPLES = flags.DEFINE_integer("num_samples", 64, "Samples per emotion.")
_JSON = flags.DEFINE_string("json", None, "Also write the rows here.")
_MIX = flags.DEFINE_enum("mix", "real", ["real", "asked"],
                         "real: the samples drawn down to the real tunes' quadrant shares; asked: "
                         "every sample, the quadrants alike (the mix then tells them apart too).")


def main(argv):
  del argv
  arrays, manifest = cache_lib.load(_CACHE.value)
  thresholds = judge.thresholds_of(manifest)
  requested = scoring.requested_emotions(_NUM_SAMPLES.value)
  result = {}
  for model in _MODELS.value:
    sampler = pretrained.load_model(model)
    sampler.use_prior("auto")
    result[model] = {}
    for bars in map(int, _BARS.value):
      melodies = [m.events for m in sampler.sample(requested, bars, 0)]
      real = realism.real_tunes(arrays, bars, sampler.steps_per_bar, thresholds, _SPLIT.value)
      rows = realism.what_gives_them_away(realism.generated_melodies(melodies, requested), real,
                                          sampler.steps_per_bar, mix=_MIX.value)
      result[model][bars] = rows
      drawn = f"{rows[0]['samples']} samples, {rows[0]['mix']} mix" if rows else "too few"
      print(f"{model}, {bars} bars ({drawn}), against {len(real.events)} {_SPLIT.value} spans: "
            "block | accuracy | most different feature | model | real")
      for row in rows:
        print(f"  {row['block']} | {row['accuracy']:.3f} | {row['feature']} | "
              f"{row['generated_mean']:.3f} | {row['real_mean']:.3f}", flush=True)
  if _JSON.value:
    pathlib.Path(_JSON.value).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
  flags.mark_flags_as_required(["models", "cache"])
  app.run(main)
