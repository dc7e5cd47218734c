"""hrnnvae-train: train the hierarchical RNN-VAE from a prepared cache.

  hrnnvae-train --config=configs/nottingham.py --workdir=runs/nottingham
  hrnnvae-train --config=configs/nottingham.py:no_vae,no_adversarial --workdir=runs/ablation
  hrnnvae-train --config=configs/tiny.py --config.data.cache_dir=DIR --workdir=/tmp/tiny
Run it again with the same --workdir to resume from the latest checkpoint.
"""

from __future__ import annotations

import sys

import jax
from absl import app, flags, logging
from ml_collections import config_flags

from hrnnvae.data import cache as cache_lib
from hrnnvae.train import checkpoints, train

_CONFIG = config_flags.DEFINE_config_file("config", None, "A configs/*.py file[:variants].",
                                          lock_config=True)
_WORKDIR = flags.DEFINE_string("workdir", None, "Checkpoints, export/, metrics.jsonl, tensorboard/.")
_MULTIHOST = flags.DEFINE_bool("multihost", False, "Call jax.distributed.initialize() first "
                               "(SLURM and Cloud TPU fill in the coordinator; see launch/slurm_train.sh).")
flags.mark_flags_as_required(["config", "workdir"])


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  checkpoints.quiet_orbax_logging()
  if _MULTIHOST.value:
    jax.distributed.initialize()
  logging.info("JAX %s on %d process(es), devices: %s", jax.__version__, jax.process_count(),
               jax.devices())
  try:
    train.train_and_evaluate(_CONFIG.value, _WORKDIR.value)
  except (train.TrainingError, cache_lib.CacheError) as error:
    print(f"hrnnvae-train: {error}", file=sys.stderr)
    sys.exit(1)


def run():
  app.run(main)


if __name__ == "__main__":
  run()
