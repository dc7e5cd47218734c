"""Shared fixtures: where the real datasets are (HRNNVAE_DATASETS), and music built by hand."""

import os
import pathlib
import runpy

# Compiled XLA programs persist across the suite's processes (the CLI drivers, subprocess runs)
# and across runs: the same train step is compiled once, not once per test. Stale entries are
# never reused wrongly (the key is the program, the JAX version and the flags).
os.environ.setdefault("JAX_COMPILATION_CACHE_DIR",
                      str(pathlib.Path(__file__).parent.parent / ".pytest_cache" / "jax"))
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0.5")
# Tests compile with LLVM's cheap pipeline: a tiny fine-tune step compiles in 9 s, not 13 s, and
# compiling is most of what the suite's train tests spend; the programs compute the same things
# (float rounding aside). Training, benchmarks and the tools keep XLA's default level. A test
# whose programs run long rather than compile (realism's classifiers, a real model's likelihood)
# compiles them at XLA's default level instead, with OPTIMIZED (jax.jit's compiler_options;
# optimize() for a library's jitted function).
if "xla_backend_optimization_level" not in os.environ.get("XLA_FLAGS", ""):
  os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "")
                             + " --xla_backend_optimization_level=0").strip()
OPTIMIZED = {"xla_backend_optimization_level": 3}  # XLA's default

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from hrnnvae.data import events as events_lib  # noqa: E402
from hrnnvae.models.hparams import ModelHParams  # noqa: E402

CONFIGS = pathlib.Path(__file__).parent.parent / "configs"

# Fixtures that train a model or prepare every Nottingham tune: a test that uses one is slow (it
# runs in the full suite, not in the fast tier `-m "not slow"`).
_SLOW_FIXTURES = {"tiny_workdir", "nottingham"}
# Fixtures built once for every test that uses them (those above, and test_post_training's tiny
# bar-dropout training, which a fast test shares with a slow one).
_SHARED_FIXTURES = _SLOW_FIXTURES | {"bar_dropout_trained"}


def pytest_itemcollected(item):
  """Marks a test that uses a _SLOW_FIXTURES fixture slow, and puts a test that uses a
  _SHARED_FIXTURES fixture in that fixture's xdist group: one worker runs every test of the
  fixture (launch/test.sh: --dist loadgroup), so it is built once, not once per worker.
  (pytest-xdist 3.8 groups by rewriting item._nodeid, which pytest 9.2 no longer reads:
  setup.cfg keeps pytest below 9, where the groups work.)"""
  fixtures = set(getattr(item, "fixturenames", ()))
  if _SLOW_FIXTURES & fixtures:
    item.add_marker(pytest.mark.slow)
  shared = _SHARED_FIXTURES & fixtures
  if shared:
    item.add_marker(pytest.mark.xdist_group(min(shared)))


def pytest_collection_modifyitems(items):
  """Slow tests first (each keeps its place among its kind): xdist hands the workers their
  groups first, then single tests in this order, so the run ends on short tests that even out
  the workers instead of one worker finishing a minute-long test alone."""
  items.sort(key=lambda item: item.get_closest_marker("slow") is None)


_OPTIMIZED_JITS = {}  # one optimized jit per function and options, so tests share its compilations


def optimize(monkeypatch, module, name: str, **jit_options) -> None:
  """Replaces module.name, a jax.jit function, by the same function compiled at XLA's default
  level (jit_options: the jit's own, e.g. static_argnums), for this test only."""
  import jax
  key = (module.__name__, name, tuple(sorted(jit_options.items())))
  if key not in _OPTIMIZED_JITS:
    function = getattr(module, name).__wrapped__
    _OPTIMIZED_JITS[key] = jax.jit(function, compiler_options=OPTIMIZED, **jit_options)
  monkeypatch.setattr(module, name, _OPTIMIZED_JITS[key])


@pytest.fixture(autouse=True)
def optimized_likelihood(monkeypatch):
  """The test split's likelihood (scoring._likelihood_sums: 16 importance samples of every test
  window, a program that runs long rather than compiles) compiled at XLA's default level in
  every test: a tiny model's post_training.ship() measures in about 2 s instead of 12."""
  from hrnnvae.evaluation import scoring
  optimize(monkeypatch, scoring, "_likelihood_sums", static_argnums=0)


def load_launch_script(name: str) -> dict:
  """The namespace of launch/<name>.py, to test its functions. Its absl flags are removed again
  from the global FLAGS, so that several launch scripts (which define flags of the same names,
  --cache, --json, ...) load into one test process."""
  from absl import flags
  namespace = runpy.run_path(str(CONFIGS.parent / "launch" / f"{name}.py"), run_name=name)
  for flag in flags.FLAGS.get_flags_for_module(name):  # its own, not those its imports define
    delattr(flags.FLAGS, flag.name)
  return namespace


def load_config(name: str = "tiny.py", arg: str | None = None):
  """configs/NAME's get_config(arg), locked: a test cannot add a field that does not exist."""
  config = runpy.run_path(str(CONFIGS / name))["get_config"](arg)
  config.lock()
  return config


def model_hparams(num_steps: int, min_steps_per_bar: int, max_steps_per_bar: int = 16,
                  max_bars: int = 0, **overrides) -> ModelHParams:
  """configs/default.py's model at a data shape, with fields of config.model overridden."""
  model_config = load_config("default.py").model
  for name, value in overrides.items():
    model_config[name] = value
  return ModelHParams.from_config(model_config, num_steps, min_steps_per_bar, max_steps_per_bar,
                                  max_bars)


def _datasets_root() -> pathlib.Path:
  """The real datasets; in CI their absence fails, elsewhere it skips with the reason."""
  root = os.environ.get("HRNNVAE_DATASETS")
  if root and pathlib.Path(root, "nottingham").is_dir() and pathlib.Path(root, "jsb_chorales").is_dir():
    return pathlib.Path(root)
  reason = (f"real datasets not found (HRNNVAE_DATASETS={root!r}); set it to a folder holding "
            "nottingham/ and jsb_chorales/")
  if os.environ.get("CI"):
    pytest.fail(reason)
  pytest.skip(reason)


@pytest.fixture(scope="session")
def datasets_root() -> pathlib.Path:
  return _datasets_root()


def prepare_real(dataset: str, source: pathlib.Path, tmp_path_factory, limit=None):
  """(cache dir, arrays, manifest) of a real dataset prepared with the default options."""
  from hrnnvae.data import cache as cache_lib
  from hrnnvae.data import prepare as prepare_lib
  out = tmp_path_factory.mktemp(dataset)
  manifest = prepare_lib.prepare(prepare_lib.make_source(dataset, str(source), limit), str(out),
                                 progress=False, log=lambda _: None)
  arrays, _ = cache_lib.load(out)
  return out, arrays, manifest


@pytest.fixture(scope="session")
def nottingham(datasets_root, tmp_path_factory):
  """Every Nottingham tune, prepared once per test session."""
  return prepare_real("nottingham", datasets_root / "nottingham", tmp_path_factory)


def melody(*notes: tuple[int, int], steps: int) -> np.ndarray:
  """Events [steps] from (pitch, duration_steps) notes played one after another; pitch None rests."""
  events = np.zeros(steps, np.int8)
  step = 0
  for pitch, duration in notes:
    if pitch is None:
      events[step] = events_lib.NOTE_OFF
    else:
      events[step] = events_lib.pitch_to_event(pitch)
    step += duration
  if step < steps:
    events[step] = events_lib.NOTE_OFF
  return events


@pytest.fixture(scope="session")
def nottingham_40(datasets_root, tmp_path_factory):
  """The first 40 Nottingham tunes (about 240 training windows): epochs of a few steps."""
  return prepare_real("nottingham", datasets_root / "nottingham", tmp_path_factory, limit=40)


@pytest.fixture(scope="session")
def tiny_workdir(nottingham_40, tmp_path_factory):
  """The tiny model trained for one epoch (15 steps) on real tunes, with its export/."""
  from hrnnvae.train import train
  config = load_config("tiny.py")
  config.data.cache_dir = str(nottingham_40[0])
  config.train.max_steps = 15
  workdir = tmp_path_factory.mktemp("tiny_run")
  train.train_and_evaluate(config, str(workdir))
  return workdir
