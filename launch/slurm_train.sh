#!/usr/bin/env bash
# Multi-host data-parallel training under SLURM: one task per node, every GPU of the node used.
#   sbatch --nodes=2 --ntasks-per-node=1 --gpus-per-node=8 launch/slurm_train.sh \
#       configs/nottingham.py runs/nottingham_2x8
# jax.distributed.initialize() (behind --multihost) reads the coordinator address, process count
# and process id from SLURM's environment. Every host reads the same cache (put it on a shared
# filesystem), builds the same global batch and feeds its own slice; train.batch_size is global
# and must divide by the total device count. Checkpoints go to the shared --workdir.
#SBATCH --job-name=hrnnvae
#SBATCH --output=%x-%j.out
set -euo pipefail
CONFIG="${1:?usage: launch/slurm_train.sh CONFIG WORKDIR [--config.x=y ...]}"
WORKDIR="${2:?usage: launch/slurm_train.sh CONFIG WORKDIR [--config.x=y ...]}"
shift 2
srun --kill-on-bad-exit=1 hrnnvae-train --multihost --config="$CONFIG" --workdir="$WORKDIR" "$@"
