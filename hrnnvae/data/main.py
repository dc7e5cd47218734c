"""hrnnvae-data: prepare, download and inspect datasets.

  hrnnvae-data prepare --dataset=nottingham --source=DIR --out=CACHE_DIR
  hrnnvae-data prepare --dataset=bach_music21 --out=CACHE_DIR      # bundled, no download
  hrnnvae-data download --dataset=jsb_chorales --out=DIR
  hrnnvae-data stats --cache=CACHE_DIR
One command: prepare (MIDI, ABC or JSON -> a cache of melody windows with emotion labels; bad files
are skipped and counted by reason), download (from the dataset's canonical URL) or stats.
"""

from __future__ import annotations

import os
import pathlib
import sys

from absl import flags

from hrnnvae import cli
from hrnnvae.data import cache as cache_lib
from hrnnvae.data import download as download_lib
from hrnnvae.data import prepare as prepare_lib
from hrnnvae.data import sources as sources_lib
from hrnnvae.data import stats as stats_lib

TOOL = "hrnnvae-data"
COMMANDS = ("prepare", "download", "stats")
_say = cli.printer(TOOL)

_DATASET = flags.DEFINE_enum("dataset", "bach_music21", prepare_lib.DATASETS, "Which dataset.")
_SOURCE = flags.DEFINE_string(
    "source", None, "Folder (or file) holding the raw dataset. Default for nottingham and "
    "jsb_chorales: $HRNNVAE_DATA_DIR/<dataset> (~/.cache/hrnnvae/datasets/<dataset>).")
_OUT = flags.DEFINE_string("out", None, "prepare: cache folder; download: target folder.")
_CACHE = flags.DEFINE_string("cache", None, "stats: a prepared cache folder.")
_NUM_BARS = flags.DEFINE_integer("num_bars", 16, "Bars per training window.", lower_bound=1)
_HOP_BARS = flags.DEFINE_integer("hop_bars", 4, "Bars between window starts.", lower_bound=1)
_MIN_BARS = flags.DEFINE_integer("min_bars", 2, "Shortest piece (segment) kept, in bars.",
                                 lower_bound=1)
_TRANSPOSE = flags.DEFINE_integer("transpose", 0, "Add train copies shifted by +-1..k semitones.",
                                  lower_bound=0, upper_bound=12)
_LIMIT = flags.DEFINE_integer("limit", None, "Read only the first N files (quick runs).")
_FORCE = flags.DEFINE_bool("force", False, "Rebuild the cache even if it is up to date.")
_BASE_URL = flags.DEFINE_string("base_url", None, "download: a mirror instead of the canonical URL.")


def _default_data_dir(dataset: str) -> pathlib.Path:
  root = os.environ.get("HRNNVAE_DATA_DIR") or pathlib.Path.home() / ".cache/hrnnvae/datasets"
  return pathlib.Path(root) / dataset


def _prepare() -> None:
  dataset = _DATASET.value
  source = _SOURCE.value
  if source is None and dataset in download_lib.SOURCES:
    source = str(_default_data_dir(dataset))
  if not _OUT.value:
    raise cli.UsageError("prepare needs --out=DIR, the cache folder to write")
  cli.check_writable_dir(_OUT.value, "out")
  if _LIMIT.value is not None:
    cli.check_range("limit", _LIMIT.value, low=1)
  reader = prepare_lib.make_source(dataset, source, _LIMIT.value)
  options = prepare_lib.PrepareOptions(_NUM_BARS.value, _HOP_BARS.value, _MIN_BARS.value,
                                       _TRANSPOSE.value)
  prepare_lib.prepare(reader, _OUT.value, options, force=_FORCE.value,
                      progress=sys.stderr.isatty(), log=_say)
  arrays, manifest = cache_lib.load(_OUT.value)
  print(stats_lib.describe(arrays, manifest))
  for warning in prepare_lib.empty_split_warnings(manifest):
    _say(f"warning: {warning}")
  print(f"{TOOL}: wrote the cache to {_OUT.value}; next: hrnnvae-train --config=configs/FILE.py "
        f"--config.data.cache_dir={_OUT.value} --workdir=RUN")


def _download() -> None:
  out = _OUT.value or str(_default_data_dir(_DATASET.value))
  cli.check_writable_dir(out, "out")
  count = download_lib.download(_DATASET.value, out, _BASE_URL.value)
  print(f"{_DATASET.value}: {count} file(s) in {out}; next: "
        f"hrnnvae-data prepare --dataset={_DATASET.value} --source={out} --out=CACHE_DIR")


def _stats() -> None:
  if not _CACHE.value:
    raise cli.UsageError("stats needs --cache=DIR, a folder written by `prepare`")
  arrays, manifest = cache_lib.load(_CACHE.value)
  print(stats_lib.describe(arrays, manifest))


def main(argv: list[str]) -> None:
  if len(argv) != 2 or argv[1] not in COMMANDS:
    raise cli.UsageError(f"say one command: {' | '.join(COMMANDS)} (see --help)")
  try:
    {"prepare": _prepare, "download": _download, "stats": _stats}[argv[1]]()
  except (sources_lib.MissingDataError, cache_lib.CacheError,
          download_lib.DownloadError) as error:
    raise cli.UsageError(error) from error


FLAG_NAMES = ["dataset", "source", "out", "cache", "num_bars", "hop_bars", "min_bars", "transpose",
              "limit", "force", "base_url"]


def run() -> None:
  cli.run(main, TOOL, __doc__, FLAG_NAMES)


if __name__ == "__main__":
  run()
