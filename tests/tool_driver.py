"""Runs a hrnnvae-* tool many times in one interpreter, each run as a user would see it.

Starting a tool costs seconds (Python, JAX, note-seq) before it does anything; a table of
mistakes, each refused in milliseconds, would spend nearly all its time starting. A `ToolDriver`
starts one child interpreter per tool and runs each command in it: flags reset to their defaults
(absl's unparse_flags), the tool's entry point called with that argv, file descriptors 1 and 2
pointed at fresh files so that everything written (print, absl logging, C libraries) is captured,
the exit status taken from SystemExit, and the flags that parsing defined (config_flags' --config.*
overrides) removed again. The result is a subprocess.CompletedProcess, as from
subprocess.run. Tests that are about start-up itself (--help, a quiet start, signals) still start
a real process each.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

_CHILD = r"""
import importlib, json, os, sys, tempfile
from absl import app, flags
module = importlib.import_module(sys.argv[1])
own_flags = set(flags.FLAGS)  # config_flags adds --config.* flags while parsing: not kept
replies = os.fdopen(os.dup(1), "w")
requests = sys.stdin
for line in requests:
  request = json.loads(line)
  out, err = tempfile.TemporaryFile(), tempfile.TemporaryFile()
  saved = os.dup(1), os.dup(2)
  sys.stdout.flush(); sys.stderr.flush()
  os.dup2(out.fileno(), 1); os.dup2(err.fileno(), 2)
  cwd = os.getcwd()
  code = 0
  try:
    os.chdir(request["cwd"] or cwd)
    flags.FLAGS.unparse_flags()
    # absl's start-up runs again, as in a new process (it sets the verbosity to INFO).
    app._run_init.done = app._register_and_parse_flags_with_usage.done = False
    sys.argv = [request["tool"]] + request["args"]
    try:
      module.run()
    except SystemExit as stop:
      code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    except BaseException:
      import traceback
      traceback.print_exc()
      code = 1
  finally:
    sys.stdout.flush(); sys.stderr.flush()
    os.dup2(saved[0], 1); os.dup2(saved[1], 2)
    os.close(saved[0]); os.close(saved[1])
    os.chdir(cwd)
    for name in set(flags.FLAGS) - own_flags:
      delattr(flags.FLAGS, name)
  texts = []
  for handle in (out, err):
    handle.seek(0)
    texts.append(handle.read().decode("utf-8", "replace"))
    handle.close()
  replies.write(json.dumps({"returncode": code, "stdout": texts[0], "stderr": texts[1]}) + "\n")
  replies.flush()
"""


class ToolDriver:
  """One child interpreter that runs `module`'s `run()` once per call."""

  def __init__(self, module: str, env: dict | None = None):
    self.process = subprocess.Popen([sys.executable, "-c", _CHILD, module], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, text=True, env=env)

  def __call__(self, tool: str, args: list[str], cwd=None) -> subprocess.CompletedProcess:
    request = {"tool": tool, "args": [str(a) for a in args], "cwd": str(cwd) if cwd else None}
    self.process.stdin.write(json.dumps(request) + "\n")
    self.process.stdin.flush()
    line = self.process.stdout.readline()
    if not line:
      raise RuntimeError(f"the {tool} driver died (exit {self.process.wait()})")
    reply = json.loads(line)
    return subprocess.CompletedProcess([tool, *request["args"]], reply["returncode"],
                                       reply["stdout"], reply["stderr"])

  def close(self) -> None:
    if self.process.poll() is None:
      self.process.stdin.close()
      try:
        self.process.wait(timeout=30)
      except subprocess.TimeoutExpired:
        self.process.kill()


def user_env() -> dict:
  """The environment a user runs the tools in: warnings on."""
  env = dict(os.environ)
  env.pop("PYTHONWARNINGS", None)
  return env
