"""Ships a trained model inside the package, for `hrnnvae-sample --pretrained=NAME` with no training.

  python launch/ship_pretrained.py --export=runs/nottingham/export --name=nottingham \
      --cache=runs/nottingham/data --device="1x NVIDIA H100" --wall_time_s=5400 \
      --command="hrnnvae-train --config=configs/nottingham.py --workdir=runs/nottingham"

Writes hrnnvae/pretrained/NAME/ (or --out_root/NAME/): params.msgpack (the export's parameters as
flax msgpack: one small file, no orbax version or machine in it, no pickle), config.json (as
exported), latent_prior.npz (when the export has a fitted latent prior) and manifest.json
(provenance, parameter count, size, and the test split's likelihood figures, measured now on the
shipped copy, with the dataset name and a digest of the test split). It replaces an earlier model
of the same name, and refuses (exit 2) a model over --max_bytes or a cache of another dataset
than the model's. A flag wrapper over hrnnvae.post_training.ship.
"""

import json
import sys

from absl import app, flags, logging

from hrnnvae import exports, post_training, pretrained

_EXPORT = flags.DEFINE_string("export", None, "A training run's export/ folder.", required=True)
_NAME = flags.DEFINE_string("name", None, "The shipped model's name, e.g. nottingham.", required=True)
_CACHE = flags.DEFINE_string("cache", None, "The prepared cache whose test split is measured.",
                             required=True)
_COMMAND = flags.DEFINE_string("command", None, "The command that trained the model.", required=True)
_DEVICE = flags.DEFINE_string("device", None, "What it trained on, e.g. '1x NVIDIA H100'.",
                              required=True)
_WALL_TIME_S = flags.DEFINE_float("wall_time_s", None, "Training wall time in seconds.",
                                  required=True)
_OUT_ROOT = flags.DEFINE_string(
    "out_root", None, f"Where NAME/ goes (default: ${pretrained.ENV_VAR}, else hrnnvae/pretrained).")
_MAX_BYTES = flags.DEFINE_integer("max_bytes", post_training.MAX_SHIP_BYTES,
                                  "Refuse a model larger than this.")
_GUIDANCE = flags.DEFINE_float("emotion_guidance", None, "The shipped model's default emotion "
                               "guidance (config.json's sampling facts; default: the export's).")
_TRANSFER_SHIFT = flags.DEFINE_float("transfer_shift", None, "The shipped model's default "
                                     "transfer shift (default: the export's).")


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  exports.quiet_orbax_logging()
  try:
    final = post_training.ship(
        _EXPORT.value, _NAME.value, _CACHE.value, command=_COMMAND.value, device=_DEVICE.value,
        wall_time_s=_WALL_TIME_S.value, out_root=_OUT_ROOT.value or None, max_bytes=_MAX_BYTES.value,
        emotion_guidance=_GUIDANCE.value, transfer_shift=_TRANSFER_SHIFT.value, log=logging.info)
  except post_training.PostTrainingError as error:
    print(f"ship_pretrained: {error}", file=sys.stderr)
    sys.exit(2)
  manifest = json.loads((final / pretrained.MANIFEST_FILE).read_text())
  metrics = manifest["test_metrics"]
  print(f"shipped {final} ({manifest['size_bytes']:,} bytes, {manifest['parameter_count']:,} "
        f"parameters, step {manifest['steps']}): test teacher-forced accuracy "
        f"{metrics['teacher_forced_accuracy']:.4f}, sampled accuracy {metrics['sampled_accuracy']:.4f}, "
        f"cross-entropy {metrics['cross_entropy_per_step']:.4f} nats/step; try "
        f"`hrnnvae-sample --pretrained={_NAME.value}`")


if __name__ == "__main__":
  app.run(main)
