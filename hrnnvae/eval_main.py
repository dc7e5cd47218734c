"""hrnnvae-eval: every model beside the held-out test set, in one report.

  hrnnvae-eval --workdirs=runs/nottingham_cpu,runs/nottingham_cpu_lstm_lm \
      --dataset_cache=runs/nottingham/data --out=docs/results/nottingham
  hrnnvae-eval --workdirs=RUN/export --dataset_cache=CACHE --num_samples=8 --seeds=0 --out=quick
writes report.md (Table-2 and Table-3 style tables, every metric, likelihoods, emotion confusion
matrices, realism, box plots, piano rolls), metrics.csv, likelihood.csv, realism.csv and
confusion_*.csv into --out (new or empty; --overwrite replaces an earlier report), whole or not at
all. A progress line comes per model, seed and phase. Each model samples with its own temperature,
emotion guidance and transfer shift (its config.json's sampling facts) unless a flag gives one for
all; the report says which. Realism (--realism_bars) is measured on the first seed's
--num_samples melodies per emotion: at least 5 for a per-quadrant cell, 64 or more to be steady.
"""

from __future__ import annotations

import pathlib

from absl import flags

from hrnnvae import cli, exports
from hrnnvae import latent_prior as latent_prior_lib
from hrnnvae.data import cache as cache_lib
from hrnnvae.evaluation import harness
from hrnnvae.exports import model_dir
from hrnnvae.sample import SampleError

TOOL = "hrnnvae-eval"
_WORKDIRS = flags.DEFINE_list("workdirs", None, "Training runs (or their export/ folders), "
                              "comma-separated.")
_CACHE = flags.DEFINE_string("dataset_cache", None, "The prepared cache whose test split is the "
                             "reference.")
_NUM_SAMPLES = flags.DEFINE_integer("num_samples", 64, "Melodies per emotion, per model and seed.")
_SEEDS = flags.DEFINE_list("seeds", ["0", "1", "2"], "Sampling seeds, 0 to 2**32 - 1 (the spread "
                           "is over these).")
_BARS = flags.DEFINE_integer("bars", 16, "Bars per sampled melody (the cache's windows are 16).")
_REALISM_BARS = flags.DEFINE_list(
    "realism_bars", ["16", "32"], "Lengths in bars at which realism is measured (classifiers "
    "telling each model's first-seed samples from the test tunes; empty: skipped). Its "
    "per-quadrant cells need --num_samples of at least 5, and 64 or more to be steady.")
_TEMPERATURE = flags.DEFINE_float(
    "temperature", None, "Sampling temperature of the prior samples and the emotion transfer "
    "(default: each model's own, from its config.json's sampling facts).")
_TOP_P = flags.DEFINE_float(
    "top_p", None, "Nucleus sampling of the prior samples and the emotion transfer: each event "
    "from the most likely events whose probability reaches it (0 to 1, 1: every event; default: "
    "each model's own).")
_PRIOR = flags.DEFINE_enum("prior", "auto", list(latent_prior_lib.KINDS),
                           "Where prior samples draw z: auto (each model's fitted latent prior "
                           "when it has one), fitted, or standard (N(0, I)).")
_GUIDANCE = flags.DEFINE_float(
    "emotion_guidance", None, "Emotion guidance scale of the prior samples (1: none; default: "
    "each model's own, from its config.json's sampling facts).")
_PENALTIES = cli.define_penalty_flags(  # repeat_penalty, short_note_penalty
    ", in the prior samples and the emotion transfer")
_TRANSFER_SHIFT = flags.DEFINE_float(
    "transfer_shift", None, "Attribute-vector share added to a tune's latent in the emotion "
    "transfer check (0 to 3; default: each model's own).")
_OUT = flags.DEFINE_string("out", "eval", "Where the report goes (new or empty).")
_OVERWRITE = flags.DEFINE_bool("overwrite", False, "Replace an earlier report in --out.")
FLAG_NAMES = ["workdirs", "dataset_cache", "num_samples", "seeds", "bars", "realism_bars",
              "temperature", "top_p", "prior", "emotion_guidance", "repeat_penalty",
              "short_note_penalty", "transfer_shift", "out", "overwrite"]


_say = cli.printer(TOOL)


def _integers(name: str, values: list[str], high: int, low: int = 0) -> list[int]:
  """The comma-separated integers of --name, each checked to lie in [low, high]."""
  try:
    numbers = [int(value) for value in values]
  except ValueError as error:
    raise cli.UsageError(f"--{name} must be integers, comma-separated ({error})") from error
  for number in numbers:
    cli.check_range(name, number, low=low, high=high)
  return numbers


def _check_flags() -> tuple[list[int], list[int], pathlib.Path]:
  """Every mistake before any work: (seeds, realism lengths in bars, output folder)."""
  if not _WORKDIRS.value or not _CACHE.value:
    raise cli.UsageError("pass --workdirs=RUN[,RUN...] and --dataset_cache=CACHE (see --help)")
  cli.check_range("num_samples", _NUM_SAMPLES.value, low=1, high=4096)
  cli.check_range("bars", _BARS.value, low=1, high=512)
  cli.check_range("temperature", _TEMPERATURE.value, low=0.0, low_open=True, high=100.0)
  cli.check_range("top_p", _TOP_P.value, low=0.0, low_open=True, high=1.0)
  cli.check_range("emotion_guidance", _GUIDANCE.value, low=0.0, high=10.0)
  cli.check_penalty_flags(_PENALTIES)
  cli.check_range("transfer_shift", _TRANSFER_SHIFT.value, low=0.0, high=3.0)
  seeds = _integers("seeds", _SEEDS.value, high=cli.MAX_SEED)
  if not seeds:
    raise cli.UsageError("--seeds names no seed")
  realism_bars = _integers("realism_bars", _REALISM_BARS.value, low=1, high=512)
  for workdir in _WORKDIRS.value:
    if not (model_dir(workdir) / "config.json").is_file():
      raise cli.UsageError(f"no exported model in {workdir}: pass a folder that hrnnvae-train "
                           "--workdir=... wrote, or its export/")
  names = [harness.model_name(workdir) for workdir in _WORKDIRS.value]
  if len(set(names)) < len(names):
    raise cli.UsageError(f"two models share a name in {names}: the report names each by its run "
                         "folder, so give the runs distinct folders")
  out = cli.check_output_dir(_OUT.value, "out", _OVERWRITE.value, TOOL, "report.md")
  return seeds, realism_bars, out


def main(argv):
  if len(argv) > 1:
    raise cli.UsageError(f"unexpected arguments: {argv[1:]}")
  exports.quiet_orbax_logging()
  try:
    seeds, realism_bars, out = _check_flags()
    # harness.run checks the cache (and its test split) before any work; the staging folder
    # and any parent made for it are removed on that error, so nothing is written.
    with cli.staged_output_dir(out) as stage:
      harness.run(_WORKDIRS.value, _CACHE.value, _NUM_SAMPLES.value, seeds, _BARS.value, stage,
                   _TEMPERATURE.value, log=_say, prior=_PRIOR.value,
                   emotion_guidance=_GUIDANCE.value, transfer_shift=_TRANSFER_SHIFT.value,
                   realism_bars=realism_bars, top_p=_TOP_P.value,
                   **{name: holder.value for name, holder in _PENALTIES.items()})
  except (SampleError, cache_lib.CacheError) as error:
    raise cli.UsageError(error) from error
  print(f"{TOOL}: wrote the report of {len(_WORKDIRS.value)} model(s) to {out / 'report.md'} "
        "(with metrics.csv, likelihood.csv, realism.csv, confusion_*.csv and pictures)")


def run():
  cli.run(main, TOOL, __doc__, FLAG_NAMES)


if __name__ == "__main__":
  run()
