"""The GPU session's prepared command: run THERE (a lent GPU, minutes long, no internet) or on a CPU for CI.

  launch/gpu_run.sh BUDGET_SECONDS OUT_DIR     (which sets up the environment, then runs
  python -m hrnnvae.gpu_run BUDGET_SECONDS OUT_DIR)

Within BUDGET_SECONDS of wall time, from a checkout with the folder that launch/gpu_prepare.sh
filled (the carry, default runs/gpu_carry) beside it, it
  1. (launch/gpu_run.sh) installs the carried wheels the machine lacks (no network) into
     OUT_DIR/site and puts that and the repo on PYTHONPATH;
  2. checks the imports and the device (jax.devices(), nvidia-smi) and says when it is only a CPU;
  3. runs hrnnvae-bench train and latency, skipping those an earlier call finished;
  4. trains every run of the list side by side, each in OUT_DIR/runs/NAME (log in
     OUT_DIR/logs/NAME.log), and sends each SIGINT at the training deadline: hrnnvae-train then
     validates, writes export/ and exits 130 (a success here); SIGKILL only after a grace period;
  5. fits the latent prior that the interrupt skipped, and evaluates the runs (hrnnvae-eval,
     Nottingham and JSB apart) in the time left;
  6. packs everything into at most 8 files of at most 16 MB in OUT_DIR/pack (or $HRNNVAE_GPU_PACK):
     summary.json, bench_train.json, bench_latency.json, logs.tar.gz, eval.tar.gz and
     exports.tar.gz (split into exports.tar.gz.partNN when over 15 MiB: `cat` them together).
A second call with the same OUT_DIR resumes: trainings continue from their latest checkpoint,
finished ones (exit 0) and finished benchmarks are skipped, and the evaluation is redone. A
signal (Ctrl-C, TERM) stops the trainings the clean way, skips the evaluation and still packs.
Exit status: 0; 1 when a training or evaluation failed (not a deadline) or the setup did; 2 for
bad arguments or a budget too small; 130 after a signal.

Environment: HRNNVAE_GPU_CARRY (the prepared folder; default runs/gpu_carry),
  HRNNVAE_GPU_PACK (where the packed files go; e.g. $OUT on the device machine),
  HRNNVAE_GPU_RUN_TINY=1 (CI: tiny configs, the same steps, minutes on a CPU),
  HRNNVAE_GPU_RUNS=NAME,NAME (only these runs of the list), HRNNVAE_GPU_TRAIN_FLAGS (more
  hrnnvae-train flags for every run), HRNNVAE_GPU_BENCH_PCT / HRNNVAE_GPU_EVAL_PCT (their
  shares of the budget; bench 0 skips it), HRNNVAE_GPU_RUN_SETUP_ONLY=1 (stop after step 2),
  PYTHON (the children's interpreter; default: launch/gpu_run.sh's, python3).
"""

from __future__ import annotations

import argparse
import os
import pathlib
import sys
import time
from collections.abc import Sequence

from hrnnvae.gpu_run import planning
from hrnnvae.gpu_run.session import Session


def _budget(text: str) -> int:
  if not text.isdigit():
    raise argparse.ArgumentTypeError("BUDGET_SECONDS must be a whole number of seconds")
  return int(text)


def main(argv: Sequence[str] | None = None) -> int:
  parser = argparse.ArgumentParser(prog="gpu_run", description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("budget_s", type=_budget, metavar="BUDGET_SECONDS")
  parser.add_argument("out_dir", type=pathlib.Path, metavar="OUT_DIR")
  parser.add_argument("--started", type=float, default=time.time(),
                      help="when the budget began (seconds since the epoch; launch/gpu_run.sh's start)")
  parser.add_argument("--installed", action="append", default=[], metavar="WHEEL:MODULE",
                      help="a wheel that launch/gpu_run.sh installed (recorded in summary.json)")
  args = parser.parse_args(argv)
  env = os.environ
  started = args.started
  log = lambda message: print(f"gpu_run [{int(time.time() - started)} s]: {message}", flush=True)
  carry = pathlib.Path(env.get("HRNNVAE_GPU_CARRY", "runs/gpu_carry"))
  if not (carry / "caches").is_dir():
    print(f"gpu_run: no {carry}/caches: run launch/gpu_prepare.sh here first and carry its folder",
          file=sys.stderr)
    return 2
  tiny = env.get("HRNNVAE_GPU_RUN_TINY", "0") == "1"
  try:
    shares = {}
    for key in ("bench_pct", "eval_pct"):
      text = env.get(f"HRNNVAE_GPU_{key.upper()}", "")
      if text and not text.isdigit():
        raise planning.PlanError(f"HRNNVAE_GPU_{key.upper()}={text}: a share is a whole percentage "
                                 "from 0 to 99")
      shares[key] = int(text) if text else None
    the_plan = planning.plan(args.budget_s, planning.TINY_SHARES if tiny else planning.GPU_SHARES, **shares)
    runs = planning.select_runs(planning.TINY_RUNS if tiny else planning.GPU_RUNS,
                                env.get("HRNNVAE_GPU_RUNS", ""))
  except planning.PlanError as error:
    print(f"gpu_run: {error}", file=sys.stderr)
    return 2
  out_dir = args.out_dir.resolve()
  for folder in ("logs", "runs", "state", "bench"):
    (out_dir / folder).mkdir(parents=True, exist_ok=True)
  pack_dir = pathlib.Path(env.get("HRNNVAE_GPU_PACK") or out_dir / "pack").resolve()
  pack_dir.mkdir(parents=True, exist_ok=True)
  session = Session(out_dir, carry.resolve(), pack_dir, runs, the_plan, tiny=tiny,
                    python=env.get("PYTHON", sys.executable),
                    train_flags=env.get("HRNNVAE_GPU_TRAIN_FLAGS", "").split(), started=started, log=log)
  return session.main(args.installed, env.get("HRNNVAE_GPU_RUN_SETUP_ONLY", "0") == "1")


if __name__ == "__main__":
  sys.exit(main())
