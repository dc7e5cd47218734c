"""The children: each started alone in its process group, supervised until it ends, and stopped by
signals at its deadline (SIGINT or TERM, SIGKILL after a grace period)."""

from __future__ import annotations

import dataclasses
import math
import os
import pathlib
import signal
import subprocess
import time
from collections.abc import Callable, Sequence

ROOT = pathlib.Path(__file__).resolve().parents[2]


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


def signal_job(job: Job, sig: int, group: bool = False) -> None:
  """Sends sig to the job (with group, to its whole process group); one already gone is left be."""
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
    signal_job(job, signal.SIGTERM, group=True)
  elif job.signaled is not None and job.killed is None and now >= job.signaled + kill_after_s:
    job.killed = now
    signal_job(job, signal.SIGKILL, group=True)


def timed_status(job: Job, status: int) -> tuple[int, str]:
  """(exit status, outcome) of a timed job, with `timeout`'s 124 (and 137 after KILL) on a deadline."""
  if job.stopped:
    return status, "stopped"
  if job.killed is not None:
    return 137, "timed_out"
  if job.signaled is not None:
    return 124, "timed_out"
  return status, "done" if status == 0 else "failed"

