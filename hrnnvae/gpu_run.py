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
import dataclasses
import datetime
import json
import math
import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable, Sequence

ROOT = pathlib.Path(__file__).resolve().parent.parent
MIB = 2 ** 20
DATASETS = ("nottingham", "jsb_chorales")
BENCH_KINDS = ("train", "latency")
Log = Callable[[str], None]


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


def eval_samples(eval_s: int, tiny: bool) -> int:
  """Melodies per emotion that the evaluation's time allows."""
  if tiny:
    return 2
  return next((n for least, n in ((300, 64), (180, 32), (100, 16)) if eval_s >= least), 8)


def needs_latent_prior(run: Run, export: pathlib.Path) -> bool:
  """Whether gpu_run fits the export's latent prior: a run stopped by the deadline's SIGINT fits none
  itself (hrnnvae/latent_prior.py); the lstm_lm baseline has no latent space."""
  return "lstm_lm" not in run.config and not (export / "latent_prior.npz").is_file()


def exit_status(returncode: int) -> int:
  """A shell's exit status: 128 + N for a process that signal N ended."""
  return 128 - returncode if returncode < 0 else returncode


@dataclasses.dataclass
class Job:
  """A child process, alone in its process group, and what was done to it."""
  proc: subprocess.Popen
  started: float
  deadline: float = math.inf  # a timed job's (bench, eval, prior) TERM, as `timeout` sends it
  log_offset: int = 0  # training: where this call's part of its log starts
  metrics_lines: int = 0  # training: metrics.jsonl's lines at the start
  signaled: float | None = None  # when SIGINT (training) or TERM was sent (time.time())
  killed: float | None = None  # when SIGKILL was sent
  stopped: bool = False  # ended by the signal to gpu_run, not by a deadline


def spawn(command: Sequence[str], log_path: pathlib.Path, env: dict | None = None) -> subprocess.Popen:
  """Starts `command` in the repo, output appended to log_path, in its own session: a Ctrl-C at the
  terminal reaches gpu_run alone, which stops each child its own way, and a SIGKILL takes the
  child's whole group."""
  with open(log_path, "ab") as log:
    return subprocess.Popen(list(command), cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)


def supervise(jobs: dict[str, Job], tick: Callable[[str, Job], None],
              ended: Callable[[str, Job, int], None], poll_s: float = 0.5) -> None:
  """Waits for every job; calls ended(NAME, JOB, EXIT_STATUS) as each ends (so that its end time is
  right) and tick(NAME, JOB) each poll for each job still running."""
  left = dict(jobs)
  while left:
    for name, job in list(left.items()):
      if job.proc.poll() is None:
        tick(name, job)
      else:
        del left[name]
        ended(name, job, exit_status(job.proc.returncode))
    if left:
      time.sleep(poll_s)


def _signal(job: Job, sig: int, group: bool = False) -> None:
  try:
    if group:
      os.killpg(job.proc.pid, sig)
    else:
      job.proc.send_signal(sig)
  except (ProcessLookupError, PermissionError):
    pass


def timeout_tick(job: Job, now: float, stopping: bool, kill_after_s: float = 10) -> None:
  """As `timeout -k kill_after_s`: TERM at the deadline (or when gpu_run is stopping), KILL later."""
  if job.signaled is None and (now >= job.deadline or stopping):
    job.signaled, job.stopped = now, now < job.deadline
    _signal(job, signal.SIGTERM, group=True)
  elif job.signaled is not None and job.killed is None and now >= job.signaled + kill_after_s:
    job.killed = now
    _signal(job, signal.SIGKILL, group=True)


def timed_status(job: Job, status: int) -> tuple[int, str]:
  """(exit status, outcome) of a timed job, with `timeout`'s 124 (and 137 after KILL) on a deadline."""
  if job.stopped:
    return status, "stopped"
  if job.killed is not None:
    return 137, "timed_out"
  if job.signaled is not None:
    return 124, "timed_out"
  return status, "done" if status == 0 else "failed"


def _lines(path: pathlib.Path) -> int:
  return len(path.read_bytes().splitlines()) if path.is_file() else 0


def summarize(out_dir: pathlib.Path, names: Sequence[str], final: bool) -> dict:
  """summary.json's content (less "pack") from OUT_DIR's state/ records of every call, runs/ and bench/."""
  calls = []
  for path in sorted((out_dir / "state").glob("call_*.tsv"), key=lambda p: int(p.stem[5:])):
    call = {"call": int(path.stem[5:])}  # info, plan, wheel, device, bench, run, eval
    for line in path.read_text().splitlines():
      section, name, key, value = (line.split("\t") + ["", "", "", ""])[:4]
      value = int(value) if re.fullmatch(r"-?\d+", value) else value
      target = call.setdefault(section, {})
      target = target.setdefault(name, {}) if name != "-" else target
      target[key] = value
    calls.append(call)
  runs = {}
  for name in names:
    workdir = out_dir / "runs" / name
    step = best = None
    if (workdir / "metrics.jsonl").is_file():
      for line in (workdir / "metrics.jsonl").read_text().splitlines():
        try:
          row = json.loads(line)
        except ValueError:
          continue
        step = max(step or 0, row.get("step", 0))
        best = row.get("valid/best_loss", best)
    export = workdir / "export" / "config.json"
    log = out_dir / "logs" / f"{name}.log"
    log_text = log.read_text(errors="replace") if log.is_file() else ""
    stops = re.findall(r"stopped at step (\d+) \((\w+)\)", log_text)
    history = [{"call": c["call"], **c["run"][name]} for c in calls if name in c.get("run", {})]
    runs[name] = {"step": step, "best_valid_loss": best if best is None or math.isfinite(best) else None,
                  "export_step": json.loads(export.read_text()).get("step") if export.is_file() else None,
                  "last_stop": {"step": int(stops[-1][0]), "reason": stops[-1][1]} if stops else None,
                  "status": history[-1].get("status") if history else None, "calls": history}
  bench = {kind: {"written": (out_dir / "bench" / f"bench_{kind}.json").is_file(),
                  **{k: v for c in calls for k, v in c.get("bench", {}).get(kind, {}).items()}}
           for kind in BENCH_KINDS}
  return {"final": final, "calls": calls, "runs": runs, "eval": calls[-1].get("eval", {}) if calls else {},
          "bench": bench, "pack": {}}


def _tar(path: pathlib.Path, members: Sequence[tuple[str, pathlib.Path]], exclude_png: bool = False):
  with tarfile.open(path, "w:gz", compresslevel=6) as archive:
    for arcname, source in members:
      if source.exists():
        archive.add(source, arcname,
                    filter=lambda info: None if exclude_png and info.name.endswith(".png") else info)
  return path


def pack(out_dir: pathlib.Path, pack_dir: pathlib.Path, names: Sequence[str], summary: dict, *,
         max_files: int = 8, part_bytes: int = 15 * MIB, max_total: int = 62 * MIB,
         summary_room: int = MIB, log: Log = print) -> list[pathlib.Path]:
  """Packs OUT_DIR into at most max_files files of at most part_bytes in pack_dir: the small files
  first, then the exports of the runs `names` in their order (dropped from the end when they cannot
  fit), split into parts. Writes summary.json (with summary["pack"] filled in) there and in
  OUT_DIR; returns the files, summary.json last. max_total (less summary_room, kept for
  summary.json) bounds them together."""
  for old in pack_dir.glob("*"):
    if old.is_file() and re.match(r"(summary\.json|bench_\w+\.json|\w+\.tar\.gz(\.part\d+)?)$", old.name):
      old.unlink()
  limit = f"{math.ceil(part_bytes / 10 ** 6)} MB"
  left_out, files = [], []
  for kind in BENCH_KINDS:
    source = out_dir / "bench" / f"bench_{kind}.json"
    if source.is_file():
      files.append(pack_dir / source.name)
      shutil.copyfile(source, files[-1])
  files.append(_tar(pack_dir / "logs.tar.gz",
                    [(f"logs/{p.name}", p) for p in sorted((out_dir / "logs").glob("*.log"))]))
  evals = [(p.name, p) for p in sorted(out_dir.glob("eval_*")) if p.is_dir()]
  if evals:
    path = _tar(pack_dir / "eval.tar.gz", evals)
    if path.stat().st_size > part_bytes:
      left_out.append(f"eval.tar.gz: the pictures (*.png), to stay under {limit}")
      _tar(path, evals, exclude_png=True)
    if path.stat().st_size > part_bytes:
      path.unlink()
      left_out.append(f"eval.tar.gz: all of it (over {limit})")
    else:
      files.append(path)
  # exports: export/ and metrics.jsonl of each run (tensorboard/ repeats metrics.jsonl; checkpoints/
  # are several times larger and stay behind)
  have = [n for n in names if (out_dir / "runs" / n / "export" / "config.json").is_file()]
  slots = max_files - len(files) - 1  # one for summary.json
  path = pack_dir / "exports.tar.gz"
  while have:
    _tar(path, [(f"runs/{n}/{part}", out_dir / "runs" / n / part)
                for n in have for part in ("export", "metrics.jsonl")])
    size, used = path.stat().st_size, sum(f.stat().st_size for f in files)
    if math.ceil(size / part_bytes) <= slots and used + size <= max_total - summary_room:
      break
    path.unlink()
    left_out.append(f"the export of {have.pop()} (no room: {max_files} files of {limit})")
  if have and path.stat().st_size > part_bytes:  # split: cat exports.tar.gz.part* | tar xz
    with open(path, "rb") as whole:
      for index in range(math.ceil(path.stat().st_size / part_bytes)):
        files.append(pack_dir / f"exports.tar.gz.part{index:02d}")
        files[-1].write_bytes(whole.read(part_bytes))
    path.unlink()
  elif have:
    files.append(path)
  summary["pack"] = {
      "files": {f.name: f.stat().st_size for f in files} | {"summary.json": "this file"},
      "exports": have, "left_out": left_out,
      "unpack": "tar xzf exports.tar.gz (or: cat exports.tar.gz.part* | tar xz), logs.tar.gz, eval.tar.gz"}
  text = json.dumps(summary, indent=1, default=str)
  (out_dir / "summary.json").write_text(text)
  files.append(pack_dir / "summary.json")
  files[-1].write_text(text)
  log(f"packed {len(files)} files into {pack_dir}: "
      + ", ".join(f"{f.name} {f.stat().st_size / MIB:.1f} MiB" for f in files)
      + (f"; left out: {'; '.join(left_out)}" if left_out else ""))
  return files


def _utc() -> str:
  return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# Fits an export's latent prior in a child process, as the trainer would have (its crop, windows
# and seed): the deadline's SIGINT skipped that fit. gpu_run itself never imports jax.
_FIT_PRIOR = """import sys
from hrnnvae.post_training import fit_latent_prior
export, cache, max_steps, max_windows, seed = sys.argv[1:]
fit_latent_prior(export, cache, max_steps=int(max_steps), max_windows=int(max_windows), seed=int(seed),
                 log=print)
"""


class Session:
  """One call: its record (OUT_DIR/state/call_N.tsv, read by summarize), its children, the stop."""

  def __init__(self, out_dir: pathlib.Path, carry: pathlib.Path, pack_dir: pathlib.Path,
               runs: Sequence[Run], the_plan: Plan, *, tiny: bool, python: str, train_flags: Sequence[str],
               started: float, log: Log):
    self.out, self.carry, self.pack_dir, self.runs, self.plan = out_dir, carry, pack_dir, runs, the_plan
    self.tiny, self.python, self.train_flags, self.started, self.log = tiny, python, train_flags, started, log
    self.call = 1
    while (out_dir / "state" / f"call_{self.call}.tsv").exists():
      self.call += 1
    self.record = out_dir / "state" / f"call_{self.call}.tsv"
    self.record.write_text("")
    self.env = dict(os.environ)
    if tiny:
      self.env["XLA_FLAGS"] = f"{self.env.get('XLA_FLAGS', '')} {TINY_XLA_FLAGS}".strip()
    self.stopping = False
    self.failed: list[str] = []  # what exited with an error (not a deadline): exit status 1
    self.backend = ""

  def now(self) -> int:
    return int(time.time() - self.started)

  def note(self, section: str, name: str, key: str, value) -> None:
    with open(self.record, "a") as record:
      record.write(f"{section}\t{name}\t{key}\t{value}\n")

  def on_signal(self, signum, frame) -> None:
    del frame
    if not self.stopping:
      self.log(f"{signal.Signals(signum).name}: stopping the trainings cleanly, then packing")
    self.stopping = True

  def _header(self, log_path: pathlib.Path, text: str) -> int:
    with open(log_path, "a") as log:
      log.write(f"=== call {self.call}{text} ===\n")
      return log.tell()

  def _timeout_tick(self, name: str, job: Job) -> None:
    del name
    timeout_tick(job, time.time(), self.stopping)

  def check(self, installed: Sequence[str]) -> int | None:
    """Notes the wheels the wrapper installed, checks the imports and the device: an exit status
    when the run cannot go on, else None."""
    for entry in installed:
      wheel, _, module = entry.partition(":")
      self.note("wheel", wheel, "installed", module)
    imports_log = self.out / "logs" / "imports.log"
    with open(imports_log, "w") as log:
      imports = subprocess.run((self.python, "-c", "import ml_collections, tensorboardX, hrnnvae.train.main"),
                               cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
    if imports.returncode:
      self.log("cannot import the training code:")
      print(imports_log.read_text(), file=sys.stderr, end="")
      self.log("(carry the wheels: launch/gpu_prepare.sh here, without --no-wheels)")
      return 1
    with open(self.out / "logs" / "device.log", "a") as log:
      log.write(f"call {self.call}, {_utc()}\n")
      log.flush()
      if shutil.which("nvidia-smi"):
        subprocess.run(["nvidia-smi"], stdout=log, stderr=subprocess.STDOUT)
      else:
        log.write("no nvidia-smi\n")
      log.flush()
      try:
        probe = "import jax; print(jax.default_backend(), jax.devices())"
        devices = subprocess.run((self.python, "-c", probe), cwd=ROOT, env=self.env, stdout=subprocess.PIPE,
                                 stderr=log, text=True, timeout=180).stdout
      except subprocess.TimeoutExpired:
        devices = ""
      self.backend = (devices.strip().splitlines() or [""])[-1]
      log.write(f"jax: {self.backend}\n")
    self.note("device", "-", "jax", self.backend)
    if self.on_gpu():
      self.log(f"device: {self.backend}")
    elif not self.backend:
      self.log("jax found no device at all (logs/device.log)")
      return 1
    else:
      self.log(f"no GPU: running on {self.backend} (fine for CI's tiny mode; slow for the real configs)")
    return None

  def on_gpu(self) -> bool:
    return self.backend.startswith(("gpu", "cuda"))

  def bench(self) -> None:
    """Both benchmarks, alone on the device so that the timings mean something."""
    if self.plan.bench_s <= 0:
      return
    seconds = min(self.plan.bench_s, max(self.plan.stop_at_s - self.plan.min_train_s - self.now(), 0))
    start = self.now()
    # The train bench gets 3/5 of the share; the latency bench whatever of it is left after that.
    self._bench("train", seconds * 3 // 5)
    self._bench("latency", start + seconds - self.now())

  def _bench(self, kind: str, seconds: int) -> None:
    """One benchmark with `seconds` to run, skipped if an earlier call wrote its JSON."""
    done = self.out / "bench" / f"bench_{kind}.json"
    partial, tried_file = done.with_suffix(".json.partial"), done.with_suffix(".timed_out_s")
    tried = int(tried_file.read_text()) if tried_file.is_file() else 0
    if done.is_file():
      self.log(f"bench {kind}: done in an earlier call")
      return self.note("bench", kind, "status", "earlier")
    if seconds < 10 or self.stopping:
      self.log(f"bench {kind}: no time for it")
      return self.note("bench", kind, "status", "skipped")
    if seconds <= tried:  # it would only time out again
      self.log(f"bench {kind}: skipped (it timed out after {tried} s before; {seconds} s now)")
      return self.note("bench", kind, "status", "skipped")
    self.log(f"bench {kind} (up to {seconds} s)")
    log_path = self.out / "logs" / f"bench_{kind}.log"
    self._header(log_path, "")
    command = (self.python, "-m", "hrnnvae.bench", kind, f"--json={partial}",
               *bench_args(kind, seconds, self.carry, self.tiny))
    job = Job(spawn(command, log_path, self.env), time.time(), deadline=time.time() + seconds)

    def ended(name, job, status):
      rc, outcome = timed_status(job, status)
      if rc == 0 and partial.is_file():
        partial.rename(done)
      wall_s = int(time.time() - job.started)
      self.note("bench", kind, "rc", rc)
      self.note("bench", kind, "wall_s", wall_s)
      self.note("bench", kind, "status", outcome)
      if outcome == "timed_out":
        tried_file.write_text(f"{seconds}\n")
      self.log(f"bench {kind}: exit {rc} after {wall_s} s")

    supervise({kind: job}, self._timeout_tick, ended)

  def train(self) -> None:
    """The trainings side by side, each stopped by SIGINT at the plan's deadline."""
    running = []
    for run in self.runs:
      done = self.out / "state" / f"done_{run.name}"
      if done.exists():
        self.log(f"train {run.name}: finished in an earlier call ({done.read_text().strip()})")
        self.note("run", run.name, "status", "earlier")
      else:
        running.append(run)
    # Each process takes an equal share of the GPU's memory, not JAX's default 75% (one would
    # starve the rest); on a CPU the variable does nothing.
    env = {**self.env, "XLA_PYTHON_CLIENT_MEM_FRACTION": f"{min(0.75, 0.9 / max(1, len(running))):.2f}"}
    duration = self.plan.stop_at_s - self.now()
    if self.stopping:
      running = []
    if running and duration < self.plan.min_train_s:
      self.log(f"only {duration} s left for training (under {self.plan.min_train_s} s): "
               "no training this call")
      for run in running:
        self.note("run", run.name, "status", "no_time")
      running = []
    jobs = {}
    for run in running:
      log_path = self.out / "logs" / f"{run.name}.log"
      offset = self._header(log_path, f", {_utc()}, {duration} s until SIGINT")
      workdir = self.out / "runs" / run.name
      # `timeout` is only a backstop, should gpu_run itself be killed: the SIGINT that gpu_run sends
      # it, it passes on; --preserve-status: the trainer's exit status (130 after SIGINT) comes out.
      command = ("timeout", "--preserve-status", "-s", "INT", str(duration + self.plan.grace_s + 30),
                 self.python, "-m", "hrnnvae.train.main", f"--config={run.config}",
                 f"--config.data.cache_dir={self.carry / 'caches' / run.dataset}", f"--workdir={workdir}",
                 *(TINY_TRAIN_FLAGS if self.tiny else ()), *self.train_flags)
      jobs[run.name] = Job(spawn(command, log_path, env), time.time(), log_offset=offset,
                           metrics_lines=_lines(workdir / "metrics.jsonl"))
    if jobs:
      self.log(f"training {' '.join(jobs)} for {duration} s (memory fraction "
               f"{env['XLA_PYTHON_CLIENT_MEM_FRACTION']} each)")
    supervise(jobs, self._train_tick, self._train_ended)

  def _train_tick(self, name: str, job: Job) -> None:
    """The deadline, each poll, for a run still going."""
    t = self.now()
    stop_at, grace = self.plan.stop_at_s, self.plan.grace_s
    if job.signaled is None and (t >= stop_at or self.stopping):
      # SIGINT at the deadline, but only to a run that has trained in this call (metrics.jsonl
      # grew): one still starting up would die of it with nothing new saved. Such a run gets up to
      # half the grace period to take its first steps; the interrupt then validates and exports it.
      grew = _lines(self.out / "runs" / name / "metrics.jsonl") > job.metrics_lines
      if grew or t >= stop_at + grace // 2 or self.stopping:
        _signal(job, signal.SIGINT)  # to `timeout`, which passes it on
        job.signaled = time.time()
        self.note("run", name, "sigint_at_s", t)
    elif job.killed is None and (t >= stop_at + grace or
                                 (self.stopping and time.time() >= job.signaled + grace)):
      self.log(f"train {name}: still running {grace} s after the deadline: SIGKILL")
      _signal(job, signal.SIGKILL, group=True)  # timeout and the trainer
      job.killed = time.time()

  def _train_ended(self, name: str, job: Job, rc: int) -> None:
    wall_s = int(time.time() - job.started)
    self.note("run", name, "rc", rc)
    self.note("run", name, "wall_s", wall_s)
    with open(self.out / "logs" / f"{name}.log", "rb") as log:
      log.seek(job.log_offset)
      stops = re.findall(r"stopped at step \d+ \([a-z_]*\)", log.read().decode(errors="replace"))
    # Exit 0: it stopped by itself (early stopping, max_steps). After the deadline's SIGINT, 130 is
    # the clean stop (validated, exported), unless the run was still starting up: then it died of
    # the interrupt with nothing saved. Any other exit before the deadline is a failure.
    if rc == 0:
      status = "done"
      (self.out / "state" / f"done_{name}").write_text(f"finished in call {self.call}\n")
    elif job.signaled is None:
      status = "failed"
      self.failed.append(f"train:{name}")
    elif rc == 130 and stops:
      status = "interrupted"
    else:
      status = "killed" if rc == 137 else "interrupted_at_start"
    self.note("run", name, "status", status)
    self.log(f"train {name}: exit {rc} ({status}) after {wall_s} s {stops[-1] if stops else ''}".rstrip())

  def evaluate(self) -> None:
    """Fits the latent priors the interrupts skipped, then evaluates Nottingham and JSB apart, sized
    by the time left: on a GPU side by side (much of their time is CPU-side scoring, and the machine
    has cores to spare), on a CPU one after the other, so that the first report is whole sooner."""
    if self.stopping:
      return
    samples = eval_samples(self.plan.eval_until_s - self.now(), self.tiny)
    models = {}
    for dataset in DATASETS:
      models[dataset] = [run for run in self.runs if run.dataset == dataset
                         and (self.out / "runs" / run.name / "export" / "config.json").is_file()]
      for run in models[dataset]:
        export = self.out / "runs" / run.name / "export"
        if needs_latent_prior(run, export) and not self.stopping:
          self._fit_prior(run, export)
    jobs = {}
    for dataset in DATASETS:
      if not models[dataset]:
        self.note("eval", dataset, "status", "no_models")
        continue
      eval_s = self.plan.eval_until_s - self.now()
      if eval_s < 15 or self.stopping:
        self.note("eval", dataset, "status", "no_time")
        self.log(f"eval {dataset}: no time left")
        continue
      workdirs = ",".join(str(self.out / "runs" / run.name) for run in models[dataset])
      self.log(f"eval {dataset}: {len(models[dataset])} model(s), {samples} melodies per emotion, "
               f"up to {eval_s} s")
      log_path = self.out / "logs" / f"eval_{dataset}.log"
      self._header(log_path, "")
      command = (self.python, "-m", "hrnnvae.eval_main", f"--workdirs={workdirs}",
                 f"--dataset_cache={self.carry / 'caches' / dataset}", f"--num_samples={samples}",
                 "--seeds=0", f"--out={self.out / f'eval_{dataset}'}", "--overwrite")
      env = {**self.env, "XLA_PYTHON_CLIENT_MEM_FRACTION": "0.40"}
      jobs[dataset] = Job(spawn(command, log_path, env), time.time(), deadline=time.time() + eval_s)
      self.note("eval", dataset, "num_samples", samples)
      self.note("eval", dataset, "models", workdirs)
      if not self.on_gpu():
        supervise(jobs, self._timeout_tick, self._eval_ended)
        jobs = {}
    supervise(jobs, self._timeout_tick, self._eval_ended)

  def _fit_prior(self, run: Run, export: pathlib.Path) -> None:
    config = json.loads((export / "config.json").read_text()).get("config", {})
    seconds = min(120, self.plan.eval_until_s - self.now())  # a stuck fit leaves the eval its time
    command = (self.python, "-c", _FIT_PRIOR, str(export), str(self.carry / "caches" / run.dataset),
               str(config.get("data", {}).get("max_steps", 0)),
               str(config.get("train", {}).get("latent_prior_windows", 16384)), str(config.get("seed", 0)))
    job = Job(spawn(command, self.out / "logs" / f"eval_{run.dataset}.log", self.env), time.time(),
              deadline=time.time() + seconds)

    def ended(name, job, status):
      if timed_status(job, status)[0]:
        self.log(f"eval {run.dataset}: no latent prior for {run.name} (see logs/eval_{run.dataset}.log)")

    supervise({run.name: job}, lambda name, job: timeout_tick(job, time.time(), self.stopping, 5), ended)

  def _eval_ended(self, dataset: str, job: Job, status: int) -> None:
    rc, outcome = timed_status(job, status)
    wall_s = int(time.time() - job.started)
    self.note("eval", dataset, "rc", rc)
    self.note("eval", dataset, "wall_s", wall_s)
    if outcome == "failed":
      self.failed.append(f"eval:{dataset}")
    self.note("eval", dataset, "status", outcome)
    self.log(f"eval {dataset}: exit {rc} ({outcome}) after {wall_s} s")

  def pack(self, final: bool) -> list[pathlib.Path]:
    """summary.json and the pack: once after training (so that a late failure still leaves the
    models), once at the end."""
    names = [run.name for run in self.runs]
    summary = summarize(self.out, names, final)
    steps = {name: run["step"] for name, run in summary["runs"].items()}
    (self.out / "state" / f"steps_call_{self.call}.json").write_text(json.dumps(steps))
    return pack(self.out, self.pack_dir, names, summary, log=self.log)

  def main(self, installed: Sequence[str], setup_only: bool) -> int:
    # A signal (Ctrl-C, a TERM from above) stops the trainings the clean way (SIGINT), skips the
    # evaluation and still packs what there is.
    signal.signal(signal.SIGINT, self.on_signal)
    signal.signal(signal.SIGTERM, self.on_signal)
    self.note("info", "-", "started", _utc())
    self.note("info", "-", "budget_s", self.plan.budget_s)
    self.note("info", "-", "tiny", int(self.tiny))
    for key in ("bench_s", "stop_at_s", "grace_s", "eval_s", "pack_s"):
      self.note("plan", "-", "train_until_s" if key == "stop_at_s" else key, getattr(self.plan, key))
    self.log(f"call {self.call}, budget {self.plan.budget_s} s: benchmarks up to {self.plan.bench_s} s, "
             f"trainings stopped at {self.plan.stop_at_s} s (+{self.plan.grace_s} s grace), evaluation "
             f"{self.plan.eval_s} s, packing {self.plan.pack_s} s; "
             f"runs: {' '.join(run.name for run in self.runs)}")
    status = self.check(installed)
    if status is not None:
      return status
    if setup_only:
      self.log("setup only: done")
      return 0
    self.bench()
    self.train()
    try:
      self.pack(final=False)
    except Exception as error:  # noqa: BLE001 - the final pack below still tries
      self.log(f"the interim pack failed ({error!r}); going on")
    self.evaluate()
    self.note("info", "-", "wall_s", self.now())
    self.pack(final=True)
    self.log(f"done in {self.now()} s of {self.plan.budget_s}; OUT_DIR={self.out}")
    if self.stopping:
      return 130
    # Everything is packed either way; a training or evaluation that failed (an error, not a
    # deadline) makes the exit status 1, and summary.json and its log say why.
    if self.failed:
      self.log(f"failed: {' '.join(self.failed)} (see logs.tar.gz)")
      return 1
    return 0


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
        raise PlanError(f"HRNNVAE_GPU_{key.upper()}={text}: a share is a whole percentage from 0 to 99")
      shares[key] = int(text) if text else None
    the_plan = plan(args.budget_s, TINY_SHARES if tiny else GPU_SHARES, **shares)
    runs = select_runs(TINY_RUNS if tiny else GPU_RUNS, env.get("HRNNVAE_GPU_RUNS", ""))
  except PlanError as error:
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
