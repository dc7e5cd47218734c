"""Training, benchmarks and evaluation import without note-seq or music21, so a GPU machine that
lacks them (and their heavy dependencies) can run them on a prepared cache."""

import subprocess
import sys

import pytest

_BLOCK = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
  def find_spec(self, name, path, target=None):
    if name.split('.')[0] in ('note_seq', 'music21', 'librosa', 'pretty_midi'):
      raise ImportError('blocked ' + name)
sys.meta_path.insert(0, Block())
import {module}
"""


@pytest.mark.parametrize("module", ["hrnnvae.train.main", "hrnnvae.bench", "hrnnvae.eval_main"])
def test_imports_without_note_seq(module):
  result = subprocess.run([sys.executable, "-c", _BLOCK.format(module=module)],
                          capture_output=True, text=True, timeout=120)
  assert result.returncode == 0, result.stderr[-2000:]


def test_the_blocker_really_blocks():
  result = subprocess.run([sys.executable, "-c", _BLOCK.format(module="hrnnvae.render")],
                          capture_output=True, text=True, timeout=120)
  assert result.returncode != 0 and "blocked note_seq" in result.stderr


_EACH_ALONE = """
import importlib, pkgutil, sys
from absl import flags
import hrnnvae
names = sorted(m.name for m in pkgutil.walk_packages(hrnnvae.__path__, 'hrnnvae.'))
failed = []
for name in names:
  for loaded in [m for m in sys.modules if m == 'hrnnvae' or m.startswith('hrnnvae.')]:
    del sys.modules[loaded]
  for flag in [f for f in flags.FLAGS if flags.FLAGS.find_module_defining_flag(f, '').startswith('hrnnvae')]:
    delattr(flags.FLAGS, flag)  # each tool defines its flags as it would in a process of its own
  try:
    importlib.import_module(name)
  except Exception as error:
    failed.append(f'{name}: {type(error).__name__}: {error}')
print(len(names), 'modules')
print('\\n'.join(failed))
sys.exit(1 if failed else 0)
"""


def test_every_module_imports_alone():
  """Each hrnnvae module imported first, with no other hrnnvae module loaded: no import cycle
  or import that only works in some order (third-party packages stay loaded, for speed)."""
  result = subprocess.run([sys.executable, "-c", _EACH_ALONE], capture_output=True, text=True,
                          timeout=300)
  assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
  assert int(result.stdout.split()[0]) > 40


def test_library_code_never_imports_the_cli_helper():
  """Library modules report progress through callbacks; only the tools (*_main, bench) print."""
  import pathlib
  package = pathlib.Path(__file__).parent.parent / "hrnnvae"
  tools = {"cli.py", "bench.py"}
  offenders = [str(path.relative_to(package)) for path in package.rglob("*.py")
               if path.name not in tools and not path.name.endswith("main.py")
               and ("from hrnnvae import cli" in path.read_text()
                    or "import hrnnvae.cli" in path.read_text())]
  assert not offenders
