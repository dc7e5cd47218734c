"""hrnnvae-train: train the hierarchical RNN-VAE from a prepared cache.

  hrnnvae-train --config=configs/nottingham_cpu.py --workdir=runs/nottingham_cpu
  hrnnvae-train --config=configs/nottingham.py:no_vae,no_adversarial --workdir=runs/ablation
  hrnnvae-train --config=configs/tiny.py --config.data.cache_dir=DIR --workdir=/tmp/tiny
Run it again with the same --workdir to resume from the latest checkpoint. Every field of the
config can be set from the command line (--config.train.max_steps=3000). A progress line comes at
least every 10 seconds; however the run ends (early stopping, max_steps, Ctrl-C), --workdir/export/
holds the best validated model, which hrnnvae-sample and hrnnvae-eval read.
"""

from __future__ import annotations

import pathlib
import shlex
import signal
import sys

import jax
from absl import flags, logging
from ml_collections import config_flags

from hrnnvae import cli, exports, post_training
from hrnnvae.data import cache as cache_lib
from hrnnvae.train import train

TOOL = "hrnnvae-train"
_CONFIG = config_flags.DEFINE_config_file("config", None, "A configs/*.py file[:variants].",
                                          lock_config=True)
_WORKDIR = flags.DEFINE_string("workdir", None, "Checkpoints, export/, metrics.jsonl, tensorboard/.")
_MULTIHOST = flags.DEFINE_bool("multihost", False, "Call jax.distributed.initialize() first "
                               "(SLURM and Cloud TPU fill in the coordinator; see launch/slurm_train.sh).")
FLAG_NAMES = ["config", "workdir", "multihost"]


def _stop(signum, frame):
  """The first SIGINT/SIGTERM stops after the step in flight (validate, export, exit 130); a
  second one interrupts at once."""
  if train.request_stop():
    raise KeyboardInterrupt(signal.Signals(signum).name)
  logging.warning("%s: stopping after the step in flight", signal.Signals(signum).name)


def main(argv):
  # Ctrl-C, `kill -INT` and a scheduler's TERM all stop training the clean way (validate, export,
  # exit 130), also when the shell started this process in the background with SIGINT ignored.
  # The handler only sets a flag that the loop reads between steps: an exception raised mid-step
  # could land after the donated state was consumed, leaving nothing intact to export.
  signal.signal(signal.SIGINT, _stop)
  signal.signal(signal.SIGTERM, _stop)
  if len(argv) > 1:
    raise cli.UsageError(f"unexpected arguments: {argv[1:]}")
  for arg in sys.argv[1:]:
    if arg.startswith("--config=") and not pathlib.Path(arg[9:].split(":")[0]).is_file():
      raise cli.UsageError(f"{arg}: no such config file (the presets are in configs/)")
  try:
    config = _CONFIG.value
    cache_dir = config.data.cache_dir if config is not None else None
  except Exception as error:  # noqa: BLE001 - config_flags defers a bad file's error to here
    raise cli.UsageError(f"cannot load --config: {' '.join(str(error).split())}") from error
  if config is None or not _WORKDIR.value:
    raise cli.UsageError("pass --config=configs/FILE.py and --workdir=DIR (see --help)")
  if not cache_dir:
    raise cli.UsageError("the config names no data: pass --config.data.cache_dir=DIR, a folder "
                         "that `hrnnvae-data prepare --out=DIR` wrote")
  workdir = cli.check_writable_dir(_WORKDIR.value, "workdir")
  exports.quiet_orbax_logging()
  if _MULTIHOST.value:
    jax.distributed.initialize()
  try:
    command = " ".join(["hrnnvae-train", *map(shlex.quote, sys.argv[1:])])
    summary = train.train_and_evaluate(config, str(workdir), command=command)
  except cache_lib.CacheError as error:
    raise cli.UsageError(f"{error} (or set --config.data.cache_dir=DIR)") from error
  except (train.TrainingError, post_training.PostTrainingError) as error:
    raise cli.UsageError(error) from error
  export = pathlib.Path(workdir) / "export"
  if (export / "config.json").is_file():
    print(f"{TOOL}: stopped at step {summary['step']} ({summary['stop_reason']}); the best "
          f"validated model is in {export}; next: hrnnvae-sample --workdir={workdir}")
  else:
    print(f"{TOOL}: stopped at step {summary['step']} ({summary['stop_reason']}) before any "
          f"validation, so there is no export yet; resume with the same --workdir={workdir}")
  if summary["stop_reason"] == "interrupted":
    sys.exit(130)


def run():
  cli.run(main, TOOL, __doc__, FLAG_NAMES)


if __name__ == "__main__":
  run()
