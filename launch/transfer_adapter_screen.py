"""Screens emotion transfer's adapter (hrnnvae/transfer_adapter.py) on a model, without writing it.

  PYTHONPATH=. python launch/transfer_adapter_screen.py --pretrained=nottingham \
      --cache=runs/nottingham_ship/data --steps=300 --keep_weight=1 --split=valid \
      --out=docs/results/NAME

Fits the adapter from the model's bar adapter, then measures emotion transfer on the split's
opening windows (scoring.emotion_transfer, the model's temperature and top-p) as the model
transfers today and through the fitted adapter at each --guidances (emotion guidance of the
transfers' decodes) and --keeps (transfer_keep); writes the figures and the adapter's leaves
(msgpack) to --out.
"""

from __future__ import annotations

import json
import pathlib

import jax
from absl import app, flags
from flax import serialization

from hrnnvae import judge, pretrained, transfer_adapter
from hrnnvae.data import cache as cache_lib
from hrnnvae.evaluation import scoring
from hrnnvae.train import input_pipeline

_PRETRAINED = flags.DEFINE_string("pretrained", None, "A shipped model's name or a model folder.",
                                  required=True)
_CACHE = flags.DEFINE_string("cache", None, "The prepared cache the model was trained on.",
                             required=True)
_STEPS = flags.DEFINE_integer("steps", 300, "Fit steps.")
_LEARNING_RATE = flags.DEFINE_float("learning_rate", 1e-3, "Adam's.")
_KEEP_WEIGHT = flags.DEFINE_float("keep_weight", 1.0, "The tune's cross-entropy's weight.")
_SPLIT = flags.DEFINE_enum("split", "valid", ["valid", "test"], "Whose opening windows move.")
_GUIDANCES = flags.DEFINE_list("guidances", ["1.0"], "Transfer guidances through the adapter.")
_KEEPS = flags.DEFINE_list("keeps", ["0"], "transfer_keep values through the adapter.")
_TEMPERATURES = flags.DEFINE_list("temperatures", None, "Transfer temperatures through the "
                                  "adapter (default: the model's own).")
_MARGIN = flags.DEFINE_float("margin", 0.0, "The emotion hinge's margin (0: softplus).")
_INIT = flags.DEFINE_string("init", None, "Fit from this adapter (msgpack), not the bar adapter.")
_FIT_KEEP = flags.DEFINE_float("fit_keep", -1.0, "The transfer_keep the fit decodes at "
                               "(negative: the model's own, as config.post.transfer_adapter_fit_keep).")
_TUNE_STEPS = flags.DEFINE_integer("tune_steps", 0, "The tune's steps the adapter reads (0: none).")
_MODE_WEIGHT = flags.DEFINE_float("mode_weight", 0.0, "The emotion term's valence part weighs "
                                  "1 + this for the pairs asked to change mode.")
_SEED = flags.DEFINE_integer("seed", 0, "Fit and sampling seed.")
_BASELINE = flags.DEFINE_bool("baseline", True, "Also measure the model's transfer as it is.")
_ADAPTER = flags.DEFINE_string("adapter", None, "Measure this fitted adapter (msgpack) instead "
                               "of fitting one; `model`: the model's own.")
_OUT = flags.DEFINE_string("out", None, "Folder for figures and the adapter.", required=True)


def main(argv):
  del argv
  out = pathlib.Path(_OUT.value)
  out.mkdir(parents=True, exist_ok=True)
  log = lambda message: print(message, flush=True)  # noqa: E731
  sampler = pretrained.load_model(_PRETRAINED.value)
  thresholds = judge.thresholds_of(sampler.facts)
  arrays, _ = cache_lib.load(_CACHE.value)
  result = {"model": _PRETRAINED.value, "split": _SPLIT.value, "rows": []}

  def measure(setting: str) -> None:
    row = scoring.emotion_transfer(sampler, arrays, thresholds, [sampler.temperature],
                                   _SEED.value, _SPLIT.value)["rows"][0]
    row = {"setting": setting, **row}
    result["rows"].append(row)
    log(f"{setting}: judge {row['judge_agreement']:.3f} kept {row['step_match']:.3f} "
        + " ".join(f"{k} {v:.2f}" for k, v in row["per_quadrant"].items()) + "; kept "
        + " ".join(f"{k} {v:.2f}" for k, v in row["step_match_per_quadrant"].items()))
    (out / "transfer_adapter_screen.json").write_text(json.dumps(result, indent=1))

  if _BASELINE.value:
    measure(f"as shipped (guidance {sampler.transfer_guidance:g}, keep {sampler.transfer_keep:g})")
  if _ADAPTER.value == "model":
    adapter = sampler.params[transfer_adapter.PARAMS_KEY]
  elif _ADAPTER.value:
    adapter = serialization.msgpack_restore(pathlib.Path(_ADAPTER.value).read_bytes())
  else:
    data = input_pipeline.load(_CACHE.value, 0)
    if _FIT_KEEP.value >= 0:
      sampler.steer(transfer_keep=_FIT_KEEP.value)
    adapter, report = transfer_adapter.fit(
        sampler, data, thresholds, steps=_STEPS.value, learning_rate=_LEARNING_RATE.value,
        keep_weight=_KEEP_WEIGHT.value, grad_clip_norm=1.0, seed=_SEED.value,
        margin=_MARGIN.value, tune_steps=_TUNE_STEPS.value, mode_weight=_MODE_WEIGHT.value,
        log=log,
        init=None if _INIT.value is None else serialization.msgpack_restore(
            pathlib.Path(_INIT.value).read_bytes()))
    result["fit"] = report
    (out / "transfer_adapter.msgpack").write_bytes(serialization.msgpack_serialize(adapter))
  sampler.params = {**sampler.params, transfer_adapter.PARAMS_KEY: jax.device_put(adapter)}
  sampler.use_transfer_adapter = True
  for temperature in _TEMPERATURES.value or [sampler.temperature]:
    sampler.steer(temperature=float(temperature))
    for guidance in _GUIDANCES.value:
      for keep in _KEEPS.value:
        sampler.steer(transfer_guidance=float(guidance), transfer_keep=float(keep))
        measure(f"transfer adapter, T {float(temperature):g}, guidance {float(guidance):g}, "
                f"keep {float(keep):g}")


if __name__ == "__main__":
  app.run(main)
