"""Progress of long loops for library code: lines through the caller's `log` callable.

Library functions take `log` (a callable of one string; the CLIs pass cli.printer(TOOL), tests a
list's append or nothing) and never print or import the CLI helpers themselves.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class Heartbeat:
  """Calls `log` with 'what: done/total, rate, time left' at most every `seconds` (and at the end)."""

  def __init__(self, what: str, total: int | None, unit: str, log: Callable[[str], None],
               seconds: float = 5.0):
    self.what, self.total, self.unit, self.log, self.seconds = what, total, unit, log, seconds
    self.start = self.last = time.monotonic()
    self.done = 0

  def __call__(self, done: int | None = None) -> None:
    self.done = self.done + 1 if done is None else done
    now = time.monotonic()
    if now - self.last < self.seconds and self.done != self.total:
      return
    self.last = now
    rate = self.done / max(now - self.start, 1e-9)
    of = f"/{self.total}" if self.total else ""
    left = (f", {(self.total - self.done) / max(rate, 1e-9):.0f} s left"
            if self.total and self.done < self.total else "")
    self.log(f"{self.what}: {self.done}{of} {self.unit}, {rate:.1f} {self.unit}/s{left}")


def silent(message: str) -> None:
  """A `log` that drops every line (the default of library functions)."""
  del message
