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
