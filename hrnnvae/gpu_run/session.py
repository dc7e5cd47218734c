"""One call of the GPU run: device check, benchmarks, trainings, latent-prior fits, evaluation, packs."""

from __future__ import annotations

import datetime
import json
import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence

from hrnnvae.gpu_run import planning
from hrnnvae.gpu_run.packing import Log, pack, summarize
from hrnnvae.gpu_run.processes import ROOT, Job, signal_job, spawn, supervise, timed_status, timeout_tick


def _lines(path: pathlib.Path) -> int:
  return len(path.read_bytes().splitlines()) if path.is_file() else 0


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
               runs: Sequence[planning.Run], the_plan: planning.Plan, *, tiny: bool, python: str,
               train_flags: Sequence[str], started: float, log: Log):
    self.out, self.carry, self.pack_dir, self.runs, self.plan = out_dir, carry, pack_dir, runs, the_plan
    self.tiny, self.python, self.train_flags, self.started, self.log = tiny, python, train_flags, started, log
    self.call = 1
    while (out_dir / "state" / f"call_{self.call}.tsv").exists():
      self.call += 1
    self.record = out_dir / "state" / f"call_{self.call}.tsv"
    self.record.write_text("")
    self.env = dict(os.environ)
    if tiny:
      self.env["XLA_FLAGS"] = f"{self.env.get('XLA_FLAGS', '')} {planning.TINY_XLA_FLAGS}".strip()
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
               *planning.bench_args(kind, seconds, self.carry, self.tiny))
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
                 *(planning.TINY_TRAIN_FLAGS if self.tiny else ()), *self.train_flags)
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
        signal_job(job, signal.SIGINT)  # to `timeout`, which passes it on
        job.signaled = time.time()
        self.note("run", name, "sigint_at_s", t)
    elif job.killed is None and (t >= stop_at + grace or
                                 (self.stopping and time.time() >= job.signaled + grace)):
      self.log(f"train {name}: still running {grace} s after the deadline: SIGKILL")
      signal_job(job, signal.SIGKILL, group=True)  # timeout and the trainer
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
    samples = planning.eval_samples(self.plan.eval_until_s - self.now(), self.tiny)
    models = {}
    for dataset in planning.DATASETS:
      models[dataset] = [run for run in self.runs if run.dataset == dataset
                         and (self.out / "runs" / run.name / "export" / "config.json").is_file()]
      for run in models[dataset]:
        export = self.out / "runs" / run.name / "export"
        if planning.needs_latent_prior(run, export) and not self.stopping:
          self._fit_prior(run, export)
    jobs = {}
    for dataset in planning.DATASETS:
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
                 "--seeds=0", f"--out={self.out / f'eval_{dataset}'}", "--overwrite",
                 *(planning.TINY_EVAL_FLAGS if self.tiny else ()))
      env = {**self.env, "XLA_PYTHON_CLIENT_MEM_FRACTION": "0.40"}
      jobs[dataset] = Job(spawn(command, log_path, env), time.time(), deadline=time.time() + eval_s)
      self.note("eval", dataset, "num_samples", samples)
      self.note("eval", dataset, "models", workdirs)
      if not self.on_gpu():
        supervise(jobs, self._timeout_tick, self._eval_ended)
        jobs = {}
    supervise(jobs, self._timeout_tick, self._eval_ended)

  def _fit_prior(self, run: planning.Run, export: pathlib.Path) -> None:
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
