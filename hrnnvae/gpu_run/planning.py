"""The budget's plan and the runs: what a call trains, benchmarks and evaluates, and when each phase ends."""

from __future__ import annotations

import dataclasses
import pathlib
from collections.abc import Sequence

DATASETS = ("nottingham", "jsb_chorales")
BENCH_KINDS = ("train", "latency")


@dataclasses.dataclass(frozen=True)
class Run:
  name: str
  config: str  # configs/FILE.py[:VARIANTS]
  dataset: str  # a cache in the carry's caches/


# The runs, most important first: exports are packed in this order and, if they cannot all fit,
# dropped from the end. All of them train at once on the one GPU. The second baseline,
# configs/nottingham.py:musicvae_like, is left out so that six processes, not seven, share the
# GPU's time; add its line to train it too (the pack has room for it).
GPU_RUNS = (Run("nottingham", "configs/nottingham.py", "nottingham"),
            Run("jsb_chorales", "configs/jsb_chorales.py", "jsb_chorales"),
            Run("nottingham_lstm_lm", "configs/nottingham.py:lstm_lm", "nottingham"),
            Run("nottingham_continuous", "configs/nottingham.py:continuous", "nottingham"),
            Run("nottingham_no_position", "configs/nottingham.py:no_position", "nottingham"),
            Run("nottingham_no_finetune", "configs/nottingham.py:no_finetune", "nottingham"))
# CI's tiny mode runs the same steps on configs/tiny.py with one bar bucket and no fine-tune phase:
# each run compiles one small train step (under half a minute on a busy 2-core CPU, against
# minutes with the buckets and the fine-tune step). It never stops early, so the deadline's SIGINT
# is what stops it.
TINY_RUNS = (Run("nottingham", "configs/tiny.py", "nottingham"),
             Run("jsb_chorales", "configs/tiny.py", "jsb_chorales"),
             Run("nottingham_lstm_lm", "configs/tiny.py:lstm_lm", "nottingham"))
TINY_TRAIN_FLAGS = ("--config.train.bucket_by_bar=False", "--config.loss.aux_start_step=1000000",
                    "--config.train.max_epochs=100000", "--config.train.eval_every_steps=20")
# Unoptimised XLA code: a third less compile time, and these models are tiny.
TINY_XLA_FLAGS = "--xla_backend_optimization_level=0 --xla_llvm_disable_expensive_passes=true"


@dataclasses.dataclass(frozen=True)
class Shares:
  """A budget's fixed parts (seconds) and the benchmarks' and evaluation's shares (percent)."""
  pack_s: int
  grace_s: int  # from the deadline's SIGINT to SIGKILL: the final validation and export
  eval_min_s: int
  eval_pct: int
  bench_pct: int
  min_train_s: int  # with less left for training, no training this call
  setup_s: int  # wheels, imports and the device check, before anything is planned


GPU_SHARES = Shares(pack_s=25, grace_s=90, eval_min_s=90, eval_pct=15, bench_pct=12, min_train_s=60,
                    setup_s=30)
TINY_SHARES = Shares(pack_s=15, grace_s=50, eval_min_s=40, eval_pct=35, bench_pct=15, min_train_s=20,
                     setup_s=15)


class PlanError(ValueError):
  """The budget or a share cannot work; the message says what would."""


@dataclasses.dataclass(frozen=True)
class Plan:
  """When each phase ends, in seconds from the start. Training gets what the others leave: it is
  stopped at stop_at_s, which keeps back the grace period, the evaluation's share and the packing;
  a stop that comes early hands its time to the evaluation. The benchmarks take their share (never
  the trainings' minimum) before the trainings start."""
  budget_s: int
  bench_s: int
  stop_at_s: int  # SIGINT to the trainings
  grace_s: int  # SIGKILL at stop_at_s + grace_s
  eval_s: int
  pack_s: int
  min_train_s: int

  @property
  def kill_at_s(self) -> int:
    return self.stop_at_s + self.grace_s

  @property
  def eval_until_s(self) -> int:
    return self.budget_s - self.pack_s


def plan(budget_s: int, shares: Shares = GPU_SHARES, bench_pct: int | None = None,
         eval_pct: int | None = None) -> Plan:
  """The deadlines of a budget; PlanError when it leaves the trainings less than their minimum."""
  bench_pct = shares.bench_pct if bench_pct is None else bench_pct
  eval_pct = shares.eval_pct if eval_pct is None else eval_pct
  for name, pct in (("HRNNVAE_GPU_BENCH_PCT", bench_pct), ("HRNNVAE_GPU_EVAL_PCT", eval_pct)):
    if not 0 <= pct < 100:
      raise PlanError(f"{name}={pct}: a share is a whole percentage from 0 to 99")
  eval_s = lambda budget: max(budget * eval_pct // 100, shares.eval_min_s)
  stop_at_s = lambda budget: budget - shares.pack_s - eval_s(budget) - shares.grace_s
  floor = shares.setup_s + shares.min_train_s
  if stop_at_s(budget_s) < floor:
    least = budget_s
    while stop_at_s(least) < floor:
      least += 1
    raise PlanError(f"a budget of {budget_s} s is too small: give at least {least} s ({shares.setup_s} s "
                    f"setup, {shares.min_train_s} s training, {shares.grace_s} s to stop, "
                    f"{eval_s(least)} s evaluation, {shares.pack_s} s packing)")
  return Plan(budget_s=budget_s, bench_s=budget_s * bench_pct // 100, stop_at_s=stop_at_s(budget_s),
              grace_s=shares.grace_s, eval_s=eval_s(budget_s), pack_s=shares.pack_s,
              min_train_s=shares.min_train_s)


def select_runs(runs: Sequence[Run], names: str) -> list[Run]:
  """The runs that HRNNVAE_GPU_RUNS (NAME,NAME; empty: all) picks, in the list's order."""
  wanted = {name for name in names.split(",") if name}
  unknown = wanted - {run.name for run in runs}
  if unknown:
    raise PlanError(f"HRNNVAE_GPU_RUNS names no such run: {', '.join(sorted(unknown))} (the runs: "
                    f"{', '.join(run.name for run in runs)})")
  return [run for run in runs if not wanted or run.name in wanted]


def bench_args(kind: str, seconds: int, carry: pathlib.Path, tiny: bool) -> list[str]:
  """The hrnnvae-bench flags of one benchmark with `seconds` to run."""
  if tiny:  # one variant (the config as given) and no fine-tune terms: CI needs no more compiles
    if kind == "train":
      return ["--config=configs/tiny.py", f"--config.data.cache_dir={carry}/caches/nottingham",
              "--config.loss.emotion_weight=0", "--config.loss.adversarial_weight=0", "--variants= ",
              "--steps=2", "--repeats=1"]
    return ["--config=configs/tiny.py", "--bars=1", "--batch_sizes=1", "--calls=3"]
  if kind == "train":
    # Both phases of the config as given. The tool's default also times a second variant: four
    # compiles, worth it only when the share has room; else --variants=' ' (absl strips it to the
    # one variant '', the config as given): two compiles.
    return ["--config=configs/nottingham.py", f"--config.data.cache_dir={carry}/caches/nottingham",
            *([] if seconds >= 180 else ["--variants= "]), "--steps=10", "--repeats=3"]
  return ["--config=configs/nottingham.py", "--bars=32", "--batch_sizes=1,64,1024", "--calls=30"]


# CI's tiny mode evaluates 2 melodies an emotion: too few for the realism classifiers (every cell
# a dash), which would still cost 40 s of CPU; real runs measure realism (hrnnvae-eval's default).
TINY_EVAL_FLAGS = ("--realism_bars=",)


def eval_samples(eval_s: int, tiny: bool) -> int:
  """Melodies per emotion that the evaluation's time allows."""
  if tiny:
    return 2
  return next((n for least, n in ((300, 64), (180, 32), (100, 16)) if eval_s >= least), 8)


def needs_latent_prior(run: Run, export: pathlib.Path) -> bool:
  """Whether gpu_run fits the export's latent prior: a run stopped by the deadline's SIGINT fits none
  itself (hrnnvae/latent_prior.py); the lstm_lm baseline has no latent space."""
  return "lstm_lm" not in run.config and not (export / "latent_prior.npz").is_file()

