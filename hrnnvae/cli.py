"""What every hrnnvae-* tool shares.

- A quiet start: no "Unable to initialize backend 'tpu'" line from JAX unless --verbosity (or -v)
  asks for it (the package itself filters pydub's ffmpeg warning: hrnnvae/__init__.py).
- `--help` that helps: the tool's docstring (its example commands), then its own flags with their
  defaults, exit 0. (`--helpfull` still lists absl's and JAX's flags too.)
- Mistakes as one line `hrnnvae-X: what is wrong and how to fix it`, exit 2, before any work and
  with nothing written: a bad flag value (absl's parser or ours), a missing file, an output path
  that is a file or cannot be written.
- Output folders written whole or not at all (`staged_output_dir`): files go to a hidden sibling
  folder that is renamed into place when everything is written; a non-empty folder is refused
  unless --overwrite, and then only if this tool wrote it, so a manifest always describes its
  folder.
- Progress as lines `hrnnvae-X: ...` on stderr (`printer`), the `log` callable the tools hand to
  library code (which reports through it and never imports this module: progress.py).
"""

from __future__ import annotations

import contextlib
import logging as std_logging
import math
import os
import pathlib
import shutil
import sys
from collections.abc import Callable, Iterator

from absl import app, flags

HELP_FLAGS = ("--help", "-help", "-h", "-?", "--helpshort", "-helpshort")
_VERBOSE_FLAGS = ("--verbosity", "-verbosity", "-v", "--v")
# The largest sampling seed: a JAX key keeps 32 bits of its seed (without x64), so 2**32 would
# silently repeat seed 0.
MAX_SEED = 2**32 - 1


class UsageError(Exception):
  """A mistake the user can fix: reported as one line naming the fix, exit 2, nothing written."""


def fail(tool: str, message) -> None:
  print(f"{tool}: {message}", file=sys.stderr)
  sys.exit(2)


def printer(tool: str) -> Callable[[str], None]:
  """A `log` for library code: each message as one line `tool: message` on stderr, at once."""
  def say(message: str) -> None:
    print(f"{tool}: {message}", file=sys.stderr, flush=True)
  return say


def help_text(tool: str, doc: str | None, flag_names: list[str]) -> str:
  """The tool's docstring, then its own flags with help and default."""
  lines = [(doc or tool).strip(), "", f"{tool} flags:"]
  for name in flag_names:
    flag = flags.FLAGS[name]
    default = "" if flag.default is None else f" (default: {flag.default!r})"
    lines.append(f"  --{name}: {flag.help}{default}")
  lines += ["", "--helpfull lists absl's and JAX's flags too; --verbosity=1 shows their start-up "
            "messages."]
  return "\n".join(lines)


def _quiet_platform_logging() -> None:
  """JAX logs at INFO that there is no TPU, on every CPU or GPU machine: keep its warnings only
  when the user asked for verbosity, and hide even those (e.g. the CUDA fallback) otherwise."""
  std_logging.getLogger("jax._src.xla_bridge").setLevel(std_logging.ERROR)


def run(main: Callable[[list[str]], None], tool: str, doc: str | None,
        flag_names: list[str]) -> None:
  """app.run(main) with the conventions above; `flag_names` are the tool's own flags, in order."""
  argv = sys.argv
  if any(arg in HELP_FLAGS for arg in argv[1:]):
    print(help_text(tool, doc, flag_names))
    sys.exit(0)
  if not any(arg.split("=")[0] in _VERBOSE_FLAGS for arg in argv[1:]):
    _quiet_platform_logging()

  def parse(argv: list[str]) -> list[str]:
    try:
      return flags.FLAGS(argv)
    except flags.Error as error:
      fail(tool, f"{error} (see {tool} --help)")
    except (AttributeError, KeyError) as error:  # config_flags: --config.X names no field
      name = str(error).strip("\"'")
      fail(tool, f"a --config.* flag names the field {name!r}, which the config does not have "
           "(its fields: configs/default.py)")

  def guarded(argv: list[str]) -> None:
    try:
      main(argv)
    except UsageError as error:
      fail(tool, error)

  app.run(guarded, flags_parser=parse)


def check_range(name: str, value, low=None, high=None, low_open: bool = False) -> None:
  """UsageError unless low <= value <= high (low < value when low_open); None is allowed."""
  if value is None:
    return
  too_low = low is not None and (value <= low if low_open else value < low)
  too_high = high is not None and value > high
  if too_low or too_high or (isinstance(value, float) and not math.isfinite(value)):
    bounds = []
    if low is not None:
      bounds.append(f"{'above' if low_open else 'at least'} {_number(low)}")
    if high is not None:
      bounds.append(f"at most {_number(high)}")
    raise UsageError(f"--{name} must be {' and '.join(bounds)}, not {_number(value)}")


# The sampling penalties both hrnnvae-sample and hrnnvae-eval take (models/nucleus.py): each a
# factor from 1 (none) to MAX_PENALTY, default the model's own (config.json's sampling facts).
MAX_PENALTY = 100.0
PENALTIES = {
    "repeat_penalty": "How many times less likely the last struck pitch is struck again",
    "short_note_penalty": "How many times less likely a note that lasts one step (a 16th) is",
}


def define_penalty_flags(applies_to: str = "") -> dict[str, flags.FlagHolder]:
  """{name: flag} for each of PENALTIES; `applies_to` (e.g. ", in the prior samples") ends the
  sentence of each flag's help."""
  return {name: flags.DEFINE_float(
      name, None, f"{what}{applies_to} (1 to {MAX_PENALTY:g}; 1: none; default: the model's own, "
      "from its config.json).") for name, what in PENALTIES.items()}


def check_penalty_flags(penalty_flags: dict[str, flags.FlagHolder]) -> None:
  """UsageError unless every given penalty lies in [1, MAX_PENALTY]."""
  for name, holder in penalty_flags.items():
    check_range(name, holder.value, low=1.0, high=MAX_PENALTY)


def _number(value) -> str:
  """An int in full (a seed bound of 4294967295, not 4.29497e+09), a float as %g."""
  return str(value) if isinstance(value, int) else f"{value:g}"


def _nearest_existing(path: pathlib.Path) -> pathlib.Path:
  path = path.absolute()
  while not path.exists() and path != path.parent:
    path = path.parent
  return path


def check_writable_dir(path: str | os.PathLike, flag: str) -> pathlib.Path:
  """UsageError unless `path` is (or can be created as) a folder this process can write into."""
  path = pathlib.Path(path).expanduser()
  if str(path) == ".":  # pathlib reads "" as "." too
    path = pathlib.Path.cwd()
  if path.exists() and not path.is_dir():
    raise UsageError(f"--{flag}={path} is a file, not a folder: name a folder")
  existing = _nearest_existing(path)
  if not existing.is_dir():
    raise UsageError(f"--{flag}={path} lies under the file {existing}: name a folder")
  if not os.access(existing, os.W_OK | os.X_OK):
    raise UsageError(f"--{flag}={path}: {existing} is not writable; name a folder you can write")
  return path


def check_output_dir(path: str | os.PathLike, flag: str, overwrite: bool, tool: str,
                     marker: str) -> pathlib.Path:
  """check_writable_dir, and: a non-empty folder only with --overwrite, and only if it holds
  `marker` (the file this tool writes last), so files this tool did not write are never removed."""
  path = check_writable_dir(path, flag)
  if path.is_dir() and any(path.iterdir()):
    if not overwrite:
      raise UsageError(f"--{flag}={path} is not empty: pass --overwrite to replace what is there, "
                       "or name a new folder")
    if not (path / marker).is_file():
      raise UsageError(f"--{flag}={path} holds files that {tool} did not write (no {marker}); "
                       "name a new or empty folder")
  return path


@contextlib.contextmanager
def staged_output_dir(path: str | os.PathLike) -> Iterator[pathlib.Path]:
  """Yields a hidden empty folder beside `path`; when the block ends without error it becomes
  `path` (replacing what was there); on error it is removed, with any parents made for it."""
  path = pathlib.Path(path).expanduser().absolute()
  made = []
  parent = path.parent
  while not parent.exists():
    made.append(parent)
    parent = parent.parent
  try:
    path.parent.mkdir(parents=True, exist_ok=True)
    stage = path.parent / f".{path.name}.partial-{os.getpid()}"
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir()
  except OSError as error:
    for folder in made:
      with contextlib.suppress(OSError):
        folder.rmdir()
    raise UsageError(f"cannot write under {path.parent}: {error.strerror or error}") from error
  try:
    yield stage
    old = path.parent / f".{path.name}.old-{os.getpid()}"
    if path.exists():
      path.rename(old)
    stage.rename(path)
    shutil.rmtree(old, ignore_errors=True)
  except BaseException:
    shutil.rmtree(stage, ignore_errors=True)
    for folder in made:  # innermost first
      with contextlib.suppress(OSError):
        folder.rmdir()
    raise
