"""What follows training, one function a step: fit the latent prior, the realism critic and E
to the judge, ship.

  path = fit_latent_prior(export_dir, cache_dir)                  # export/latent_prior.npz
  report = fit_critic(export_dir, cache_dir, per_emotion=1024, steps=3000, seed=0)
  report = fit_emotion_classifier(export_dir, cache_dir, per_emotion=1024, steps=1500, seed=0)
  folder = ship(export_dir, "nottingham", cache_dir, command=..., device=..., wall_time_s=...)
  set_sampling(folder, {"temperature": 0.7, "top_p": 0.95}, chosen_by="launch/sampling_sweep.py")

`hrnnvae-train` runs them when training ends, as its config asks (run_stages: the prior when
config.train.fit_latent_prior, the critic's fit when config.post.critic_fit_steps, E's fit when
config.post.emotion_fit_steps, shipping when config.post.ship_as), each once for the run's
current export, so one command trains what ships and a second call resumes where the first
stopped (configs/nottingham_ship.py);
launch/fit_latent_prior.py, launch/fit_emotion_classifier.py and launch/ship_pretrained.py are
flag wrappers over these functions, for exports made before a step existed or for a refit. The
science lives beside: latent_prior.py (the prior), realism_critic.py (the critic),
classifier_fit.py (E's fit), exports.py (model folders). Every function reports progress
through `log` (one message a call; None: silent) and raises PostTrainingError, naming the fix,
for inputs it cannot use.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import json
import os
import pathlib
import re
import shutil
import subprocess
import time
from collections.abc import Callable

import flax
import jax
import numpy as np
from flax import serialization

import hrnnvae
from hrnnvae import (
  bar_adapter,
  classifier_fit,
  exports,
  pretrained,
  progress,
  realism_critic,
  transfer_adapter,
)
from hrnnvae import latent_prior as latent_prior_lib
from hrnnvae.data import cache as cache_lib
from hrnnvae.data import emotion as emotion_lib
from hrnnvae.evaluation.scoring import likelihood_row  # the manifest's test-split figures
from hrnnvae.models.hparams import ModelHParams
from hrnnvae.sample import SampleError, Sampler
from hrnnvae.train import input_pipeline

Log = Callable[[str], None] | None

MAX_SHIP_BYTES = 10_000_000  # a model in the package: a few MB, not a wheel-sized download
STAGES_FILE = "stages.json"  # in the run's workdir: what run_stages did, for which export
RUN_TIME_FILE = "run_time.json"  # in the run's workdir: the wall time of each training call
E_START_FILE = "emotion_before_fit.msgpack"  # beside the export: training's E, where E's fits start
# Beside the export: the VAE's parameters as training left them (no adapter), where the bar
# adapter's fits start.
ADAPTER_START_FILE = "vae_before_bar_adapter.msgpack"
POST_FIELDS = {"emotion_fit_steps", "emotion_fit_per_emotion", "critic_fit_steps",
               "critic_fit_per_emotion", "critic_input", "critic_min_windows", "critic_bars",
               "critic_repetition", "critic_register", "critic_fits",
               "bar_adapter_steps", "bar_adapter_dim", "bar_adapter_learning_rate",
               "transfer_adapter_steps", "transfer_adapter_learning_rate",
               "transfer_adapter_keep_weight", "transfer_adapter_tune_steps",
               "transfer_adapter_fit_keep", "transfer_adapter_refine_steps",
               "transfer_adapter_refine_keep",
               "ship_as", "ship_root", "command"}


class PostTrainingError(Exception):
  """A step that cannot run on these inputs; the message names the fix."""


def fit_latent_prior(export_dir: str | pathlib.Path, cache_dir: str | pathlib.Path, *,
                     max_steps: int = 0, max_windows: int = 16384, seed: int = 0,
                     arrays: dict | None = None, log: Log = None, components: int = 1,
                     chosen_by: str | None = None) -> pathlib.Path:
  """Fits the model's latent prior to its training windows' latents and saves it in the model
  folder (latent_prior.py): sampling then draws z where the decoder learned to decode.
  components: 1, one Gaussian per emotion; K > 1, a mixture of K diagonal Gaussians. In a
  shipped model's folder the manifest gets the new file size and a "prior_changes" record
  (date, components, chosen_by).

  max_steps: the training crop (config.data.max_steps; 0: none), so the windows are encoded as
  training read them; arrays: the cache's arrays when the caller has read them already (the
  trainer's input_pipeline.Data.arrays, cropped), so the cache is read once. Returns the written
  latent_prior.npz."""
  log = log or progress.silent
  sampler = Sampler.load(export_dir)
  if arrays is None:
    arrays, _ = cache_lib.load(cache_dir)
  if max_steps and arrays["events"].shape[1] > max_steps:
    arrays = {**arrays, "events": arrays["events"][:, :max_steps],
              "lengths": np.minimum(arrays["lengths"], max_steps)}
  rows = latent_prior_lib.training_rows(arrays, sampler.steps_per_bar)  # the meter it samples in
  if not len(rows):
    raise PostTrainingError(f"no untransposed training window of {sampler.steps_per_bar} steps a "
                            f"bar (the meter {export_dir} samples in) in {cache_dir}")
  fitted = sampler.hp.fitted_latent_size  # z alone when a learned prior draws the bars' latents

  def posterior(events, lengths, steps_per_bar):
    mu, log_var = sampler.posterior(events, lengths, steps_per_bar)
    return mu[:, :fitted], None if log_var is None else log_var[:, :fitted]

  prior = latent_prior_lib.fit_to_split(posterior, arrays, rows, sampler.hp.num_emotions,
                                        max_windows, seed=seed, log=log, components=components)
  path = prior.save(export_dir)
  manifest_path = pathlib.Path(export_dir) / pretrained.MANIFEST_FILE
  if manifest_path.is_file():
    manifest = json.loads(manifest_path.read_text())
    manifest["files"][latent_prior_lib.FILE] = path.stat().st_size
    manifest["size_bytes"] = sum(manifest["files"].values())
    manifest["prior"] = "fitted"
    manifest.setdefault("prior_changes", []).append({
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "components": components, "chosen_by": chosen_by or "not recorded"})
    manifest_path.write_text(json.dumps(manifest, indent=1) + "\n")
  mixture = "" if components == 1 else f" ({components} diagonal Gaussians an emotion)"
  log(f"fitted the latent prior{mixture} to {int(min(len(rows), max_windows))} training windows "
      f"of {sampler.steps_per_bar} steps a bar "
      f"(per emotion: {prior.counts_E.tolist()}); wrote {path}")
  return path


# The sampling settings that shape the plain prior samples E's and the critic's fits are trained
# on: every one but the critic's candidates and the transfer's shift, keep, guidance and edits
# (plain samples use none of them).
# Each fit records them, and run_stages redoes a fit whose samples were drawn with other
# settings than the model's own now.
FIT_SAMPLING = tuple(key for key in exports.SAMPLING_KEYS
                     if key not in ("candidates", "transfer_shift", "transfer_keep",
                                    "transfer_guidance", "transfer_edits"))


def _fit_sampling(description: dict, **used) -> dict:
  """The model's own FIT_SAMPLING settings, with those a fit was given instead (`used`)."""
  settings = {**exports.sampling_settings(description), **used}
  return {key: float(settings[key]) for key in FIT_SAMPLING}


def recorded_fit_sampling(fit_report: dict) -> dict | None:
  """The FIT_SAMPLING settings a fit's samples were drawn with (its report's "sampling"); a
  setting added after the fit was recorded at its value before it existed
  (exports.sampling_settings' rule); None for a fit that recorded none."""
  if "sampling" not in fit_report:
    return None
  return _fit_sampling({"sampling": fit_report["sampling"]})


def _refit_inputs(export_dir: pathlib.Path, cache_dir) -> tuple[Sampler, dict,
                                                                  emotion_lib.ArousalThresholds]:
  """(the export's Sampler, the cache's arrays, its arousal thresholds) for a fit written back
  into a run's export/; PostTrainingError for a shipped model's folder."""
  if not (export_dir / "params").is_dir():
    raise PostTrainingError(f"{export_dir} is not a training run's export/ (a shipped model is "
                            "refit from the run it came from, then shipped again)")
  arrays, manifest = cache_lib.load(cache_dir)
  return (Sampler.load(export_dir), arrays,
          emotion_lib.ArousalThresholds(**manifest["arousal_thresholds"]))


def fit_emotion_classifier(export_dir: str | pathlib.Path, cache_dir: str | pathlib.Path, *,
                           per_emotion: int, steps: int, temperature: float | None = None,
                           seed: int, bars: int = classifier_fit.POOL_BARS,
                           log: Log = None) -> dict:
  """Fits the export's emotion classifier E to the judge on the model's own samples
  (classifier_fit.py) and writes E's new parameters into the export (the VAE's untouched), with
  the fit recorded in config.json ("emotion_classifier_fit"). The pool is drawn with the model's
  own settings (emotion guidance, fitted prior) at `temperature` (None: the model's own).
  Each fit starts from the E the export was written with (training's, kept in
  E_START_FILE beside the export at the first fit; a new export replaces the folder), so
  fitting again is fitting once. Returns the fit's report."""
  log, export_dir = log or progress.silent, pathlib.Path(export_dir)
  sampler, arrays, thresholds = _refit_inputs(export_dir, cache_dir)
  start_file = export_dir / E_START_FILE
  if start_file.is_file():
    sampler.params = {**sampler.params,
                      "emotion": serialization.msgpack_restore(start_file.read_bytes())}
  else:
    start_file.write_bytes(serialization.msgpack_serialize(
        jax.tree.map(np.asarray, sampler.params["emotion"])))
  params, report = classifier_fit.fit(sampler, arrays, thresholds, per_emotion=per_emotion,
                                      bars=bars, temperature=temperature, steps=steps, seed=seed,
                                      log=log)
  report["sampling"] = _fit_sampling(sampler.description, temperature=report["temperature"])
  description = dict(sampler.description, emotion_classifier_fit=report)
  exports.rewrite_export(export_dir, {**sampler.params, "emotion": params}, description)
  log(f"E agrees with the judge on {report['held_out_melodies']} held-out samples: "
      f"{report['held_out_agreement_with_judge_before']:.3f} before, "
      f"{report['held_out_agreement_with_judge_after']:.3f} after; wrote {export_dir}")
  return report


def fit_critic(export_dir: str | pathlib.Path, cache_dir: str | pathlib.Path, *,
               per_emotion: int, steps: int, seed: int, bars: int = realism_critic.BARS,
               input_kind: str = "absolute",
               min_real_windows: int = realism_critic.MIN_REAL_WINDOWS, repetition: bool = False,
               register: bool = False, fits: int = 1, log: Log = None) -> dict:
  """Fits the export's realism critic (realism_critic.py) on training windows against the
  model's own plain prior samples, drawn with its own settings, reading input_kind
  (realism_critic.INPUTS) and, with repetition, how each melody restates its bars (with
  register, where it sits as written), resampling
  the quadrants with at least min_real_windows real training windows, and writes its
  parameters into the export beside the VAE's and E's, the fit recorded in config.json
  ("realism_critic_fit"). fits > 1: an ensemble (realism_critic.ensemble) of that many critics
  fitted at seed, seed + 1, ..., each on its own samples; the report is the first's, with
  "fits", each member's "seed", "final_loss" and "held_out_accuracy" ("members"). Returns the
  fit's report."""
  log, export_dir = log or progress.silent, pathlib.Path(export_dir)
  if fits < 1:
    raise PostTrainingError(f"post.critic_fits={fits}: fit at least one critic")
  sampler, arrays, thresholds = _refit_inputs(export_dir, cache_dir)
  members, reports = [], []
  for member in range(fits):
    try:
      params, member_report = realism_critic.fit(
          sampler, arrays, thresholds, per_emotion=per_emotion, steps=steps, seed=seed + member,
          bars=bars, input_kind=input_kind, min_real_windows=min_real_windows,
          repetition=repetition, register=register, log=log)
    except ValueError as error:
      raise PostTrainingError(f"cannot fit the realism critic: {error}; prepare a dataset with "
                              f"tunes of at least {bars} bars") from error
    members.append(params)
    reports.append(member_report)
  params, report = realism_critic.ensemble(members), reports[0]
  if fits > 1:
    report["fits"] = fits
    report["members"] = [{key: member[key] for key in ("seed", "final_loss", "held_out_accuracy")}
                         for member in reports]
  report["sampling"] = _fit_sampling(sampler.description)
  description = dict(sampler.description, realism_critic_fit=report)
  exports.rewrite_export(export_dir, {**sampler.params, realism_critic.PARAMS_KEY: params},
                         description)
  log(f"wrote the realism critic into {export_dir}")
  return report


def sampler_before_bar_adapter(sampler: Sampler) -> Sampler:
  """The export's model as training left it, before any bar adapter: its VAE parameters from
  ADAPTER_START_FILE (kept beside the export at the first fit), or the export's own when it has
  no adapter; PostTrainingError when it has one but not that file."""
  export_dir = pathlib.Path(sampler.export_dir)
  start_file = export_dir / ADAPTER_START_FILE
  if start_file.is_file():
    trained = serialization.msgpack_restore(start_file.read_bytes())
    model = {**sampler.description["model"], "bar_adapter_dim": 0}
    return Sampler(ModelHParams.from_export(model), {**sampler.params, "vae": trained},
                   {**sampler.description, "model": model}, export_dir)
  if sampler.hp.bar_adapter_dim:
    raise PostTrainingError(f"{export_dir} has a bar adapter but not {ADAPTER_START_FILE}: "
                            "export the run again (hrnnvae-train) before fitting another")
  return sampler


def fit_bar_adapter(export_dir: str | pathlib.Path, cache_dir: str | pathlib.Path, *,
                    width: int, steps: int, learning_rate: float, beta: float, free_bits: float,
                    grad_clip_norm: float, max_steps: int, seed: int, bucket_by_bar: bool = True,
                    log: Log = None) -> dict:
  """Fits the bar adapter (bar_adapter.py) into the export: its parameters join the VAE's, the
  model's facts in config.json record its width ("model" / bar_adapter_dim) and the fit is
  recorded ("bar_adapter_fit"). Each fit starts from the VAE as training left it (kept in
  ADAPTER_START_FILE beside the export at the first fit), so fitting again is fitting once.
  bucket_by_bar: the fit batches as training did (config.train.bucket_by_bar). Returns the fit's
  report."""
  log, export_dir = log or progress.silent, pathlib.Path(export_dir)
  sampler, _, _ = _refit_inputs(export_dir, cache_dir)
  description = dict(sampler.description)
  start_file = export_dir / ADAPTER_START_FILE
  if not start_file.is_file() and not sampler.hp.bar_adapter_dim:
    start_file.write_bytes(serialization.msgpack_serialize(
        jax.tree.map(np.asarray, sampler.params["vae"])))
  sampler = sampler_before_bar_adapter(sampler)
  data = input_pipeline.load(str(cache_dir), max_steps)
  try:
    hp, params, report = bar_adapter.fit(sampler, data, width=width, steps=steps,
                                         learning_rate=learning_rate, beta=beta,
                                         free_bits=free_bits, grad_clip_norm=grad_clip_norm,
                                         seed=seed, bucket_by_bar=bucket_by_bar, log=log)
  except ValueError as error:
    raise PostTrainingError(f"cannot fit the bar adapter: {error}") from error
  description["model"] = {**description["model"], "bar_adapter_dim": hp.bar_adapter_dim}
  description["bar_adapter_fit"] = report
  # A transfer adapter starts from the bar adapter it was fitted on: a new one drops it.
  description.pop(TRANSFER_FIT_KEY, None)
  kept = {key: value for key, value in sampler.params.items()
          if key != transfer_adapter.PARAMS_KEY}
  exports.rewrite_export(export_dir, {**kept, "vae": params}, description)
  log(f"wrote the bar adapter into {export_dir}")
  return report


TRANSFER_FIT_KEY = "transfer_adapter_fit"  # the transfer adapter's fit report in config.json
TRANSFER_REFINE_KEY = "refine"  # its second leg's report, inside the fit's


def transfer_fit_asked(description: dict, steps: int, learning_rate: float,
                       keep_weight: float, tune_steps: int = 0, fit_keep: float = -1.0) -> dict:
  """What a transfer adapter's fit depends on: its options and the sampling it decodes transfers
  at (temperature, top-p, and the keep bias: fit_keep, or the model's transfer_keep for a
  negative fit_keep; a new bar adapter, where it starts, drops it: fit_bar_adapter). tune_steps
  is recorded only when the adapter reads the tune, so a fit made before it existed stays done."""
  sampling = exports.sampling_settings(description)
  keep = float(sampling["transfer_keep"]) if fit_keep < 0 else float(fit_keep)
  return {"steps": int(steps), "learning_rate": float(learning_rate),
          "keep_weight": float(keep_weight), "temperature": float(sampling["temperature"]),
          "top_p": float(sampling["top_p"]), "transfer_keep": keep,
          **({"tune_steps": int(tune_steps)} if tune_steps else {})}


def fit_transfer_adapter(export_dir: str | pathlib.Path, cache_dir: str | pathlib.Path, *,
                         steps: int, learning_rate: float, keep_weight: float,
                         grad_clip_norm: float, max_steps: int, seed: int, tune_steps: int = 0,
                         fit_keep: float = -1.0, refine: bool = False, bucket_by_bar: bool = True,
                         log: Log = None) -> dict:
  """Fits emotion transfer's adapter (transfer_adapter.py) into the export: its parameters join
  the export's under transfer_adapter.PARAMS_KEY (the VAE's are untouched) and the fit is
  recorded (TRANSFER_FIT_KEY), with emotion transfer on the validation opening windows before
  and after. tune_steps > 0: the adapter also reads that many of the tune's steps. fit_keep >= 0:
  the fit decodes transfers favouring the tune's events by that much (a negative one: by the
  model's transfer_keep, at which both measurements decode).

  refine: a second leg, from the export's fitted adapter (a fresh optimiser, the batches from
  the start), recorded under the fit's record as TRANSFER_REFINE_KEY; "before" is then the
  adapter as the first leg left it. bucket_by_bar: the fit batches as training did
  (config.train.bucket_by_bar). Returns the fit's report."""
  log, export_dir = log or progress.silent, pathlib.Path(export_dir)
  sampler, arrays, thresholds = _refit_inputs(export_dir, cache_dir)
  if not sampler.hp.bar_adapter_dim:
    raise PostTrainingError("the transfer adapter starts from the bar adapter: set "
                            "config.post.bar_adapter_steps too")
  if refine and not sampler.has_transfer_adapter:
    raise PostTrainingError("refining the transfer adapter needs one fitted first "
                            "(config.post.transfer_adapter_steps)")
  from hrnnvae.evaluation import scoring  # noqa: PLC0415 - scoring imports the sampler

  def measured() -> dict:
    row = scoring.emotion_transfer(sampler, arrays, thresholds, [sampler.temperature], seed,
                                   "valid")["rows"][0]
    return {"judge_agreement": row["judge_agreement"], "steps_kept": row["step_match"],
            "per_quadrant": row["per_quadrant"]}

  init = sampler.params.get(transfer_adapter.PARAMS_KEY) if refine else None
  if not refine:
    sampler.params = {key: value for key, value in sampler.params.items()
                      if key != transfer_adapter.PARAMS_KEY}
  sampler.use_transfer_adapter = refine
  before = measured()
  data = input_pipeline.load(str(cache_dir), max_steps)
  transfer_keep = sampler.transfer_keep
  if fit_keep >= 0:
    sampler.steer(transfer_keep=fit_keep)
  adapter, report = transfer_adapter.fit(sampler, data, thresholds, steps=steps,
                                         learning_rate=learning_rate, keep_weight=keep_weight,
                                         grad_clip_norm=grad_clip_norm, seed=seed, init=init,
                                         tune_steps=tune_steps, bucket_by_bar=bucket_by_bar,
                                         log=log)
  sampler.steer(transfer_keep=transfer_keep)
  sampler.params = {**sampler.params, transfer_adapter.PARAMS_KEY: adapter}
  sampler.use_transfer_adapter = True
  after = measured()
  leg = "refined" if refine else "fitted"
  log(f"transfer adapter {leg}: validation transfer, judge {before['judge_agreement']:.3f} -> "
      f"{after['judge_agreement']:.3f}, steps kept {before['steps_kept']:.3f} -> "
      f"{after['steps_kept']:.3f}")
  description = dict(sampler.description)
  record = {**report, "asked": transfer_fit_asked(description, steps, learning_rate, keep_weight,
                                                  tune_steps, fit_keep),
            "validation_transfer_before": before, "validation_transfer_after": after}
  if refine:
    record = {**description[TRANSFER_FIT_KEY], TRANSFER_REFINE_KEY: record}
  description[TRANSFER_FIT_KEY] = record
  exports.rewrite_export(export_dir, sampler.params, description)
  log(f"wrote the transfer adapter into {export_dir}")
  return record


def _git(*args: str) -> str | None:
  """git's output in the checkout this package runs from; None outside one."""
  try:
    return subprocess.run(["git", "-C", str(pathlib.Path(__file__).resolve().parent.parent), *args],
                          capture_output=True, text=True, check=True, timeout=30).stdout.strip()
  except (OSError, subprocess.SubprocessError):
    return None


def _read_export(export_dir: pathlib.Path) -> tuple[bytes, bytes, dict, dict]:
  """(params.msgpack bytes, config.json bytes, parameter counts, the parameters as numpy arrays)
  of a run's export/."""
  if not (export_dir / "config.json").is_file():
    raise PostTrainingError(f"no exported model in {export_dir}: pass a training run's export/ "
                            "folder")
  try:
    params, _ = exports.load_export(export_dir)
  except Exception as error:  # noqa: BLE001 - any failure means an unreadable export
    raise PostTrainingError(f"{export_dir} is not a readable hrnnvae export "
                            f"({type(error).__name__}: {str(error)[:200]})") from error
  params = jax.tree.map(np.asarray, jax.device_get(params))
  counts = {part: int(sum(np.size(leaf) for leaf in jax.tree.leaves(params[part])))
            for part in params}
  return (serialization.msgpack_serialize(params), (export_dir / "config.json").read_bytes(),
          counts, params)


# What the test split's figures (_measure: likelihood_row) never read: the realism critic and E,
# which only choose among prior samples and score emotions. Their fits, and the training
# config's record, change nothing measured.
_UNMEASURED_PARAMS = (realism_critic.PARAMS_KEY, "emotion")
_MEASURED_SECTIONS = ("model", "data", "step", "sampling", "bar_adapter_fit",
                      "transfer_adapter_fit")


def _measurement_key(params: dict, description: dict, prior_bytes: bytes,
                     test_split_sha256: str) -> str:
  """A digest of everything the test split's figures depend on: every parameter but the
  critic's and E's, the fitted latent prior, the description's _MEASURED_SECTIONS, the test
  split, and the versions and backend that compute them. Equal keys measure equal figures, so
  shipping again after only the critic or E was refitted reuses them."""
  measured = {part: tree for part, tree in params.items() if part not in _UNMEASURED_PARAMS}
  sections = {name: description.get(name) for name in _MEASURED_SECTIONS}
  digest = hashlib.sha256(serialization.msgpack_serialize(measured))
  digest.update(json.dumps(sections, sort_keys=True, default=str).encode())
  digest.update(prior_bytes)
  digest.update(json.dumps([test_split_sha256, hrnnvae.__version__, jax.__version__,
                            flax.__version__, jax.default_backend()]).encode())
  return digest.hexdigest()


def _earlier_figures(model_dir: pathlib.Path, key: str) -> dict | None:
  """The test_metrics of the model already shipped in model_dir when they were measured on
  everything `key` covers (_measurement_key), else None."""
  try:
    manifest = json.loads((model_dir / pretrained.MANIFEST_FILE).read_text())
  except (OSError, ValueError):
    return None
  if manifest.get("test_metrics_key") != key or not isinstance(manifest.get("test_metrics"), dict):
    return None
  return manifest["test_metrics"]


def _measure(model_dir: pathlib.Path, arrays: dict, log: Log) -> dict:
  """Test-split likelihood figures of the model as shipped (read back from model_dir)."""
  try:
    sampler = Sampler.load(model_dir)
  except SampleError as error:
    raise PostTrainingError(f"the shipped copy does not load: {error}") from error
  row = likelihood_row(sampler, arrays, log=log)
  return {k: float(v) if np.isfinite(v) else None for k, v in row.items()}  # None: no such figure


def ship(export_dir: str | pathlib.Path, name: str, cache_dir: str | pathlib.Path, *,
         command: str, device: str, wall_time_s: float,
         out_root: str | pathlib.Path | None = None, max_bytes: int = MAX_SHIP_BYTES,
         emotion_guidance: float | None = None, transfer_shift: float | None = None,
         log: Log = None) -> pathlib.Path:
  """Ships a run's export/ as out_root/name/ (default root: pretrained.root()): params.msgpack,
  config.json, latent_prior.npz (when fitted) and manifest.json (provenance, sizes, and the test
  split's likelihood figures measured on the shipped copy, or kept from the model of that name
  it replaces when nothing they read differs: _measurement_key). Replaces an earlier model of that
  name; refuses a model over max_bytes or a cache of another dataset. emotion_guidance and
  transfer_shift replace the export's sampling facts in the shipped config.json (the settings
  measured best for this model). Returns out_root/name."""
  log = log or progress.silent
  export_dir, cache_dir = pathlib.Path(export_dir), pathlib.Path(cache_dir)
  if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]*", name):
    raise PostTrainingError(f"name={name!r} must be letters, digits, _ or - (it names a folder)")
  params_bytes, config_bytes, counts, params = _read_export(export_dir)
  source_config_sha256 = hashlib.sha256(config_bytes).hexdigest()  # which export, on any machine
  sampling = {key: value for key, value in (("emotion_guidance", emotion_guidance),
                                            ("transfer_shift", transfer_shift))
              if value is not None}
  if sampling:
    description = json.loads(config_bytes)
    _, description["sampling"] = _sampling_merged(description, sampling)
    config_bytes = json.dumps(description, indent=1).encode()
  prior_path = export_dir / latent_prior_lib.FILE  # the fitted latent prior, when it has one
  prior_bytes = prior_path.read_bytes() if prior_path.is_file() else b""
  size = len(params_bytes) + len(config_bytes) + len(prior_bytes)
  if size > max_bytes:
    raise PostTrainingError(f"{export_dir} would take {size:,} bytes, over the {max_bytes:,}-byte "
                            "limit for a model in the package; ship a smaller model")
  try:
    arrays, cache_manifest = cache_lib.load(cache_dir)
  except cache_lib.CacheError as error:
    raise PostTrainingError(str(error)) from error
  trained_on = json.loads(config_bytes)["data"].get("dataset")
  if trained_on and trained_on != cache_manifest["dataset"]:
    raise PostTrainingError(f"{cache_dir} holds {cache_manifest['dataset']}, but the model trained "
                            f"on {trained_on}: pass that dataset's cache")
  digest, melodies = pretrained.digest_of_test_split(arrays)
  if not melodies:
    raise PostTrainingError(f"{cache_dir} has no test split to measure the model on")

  out_root = pathlib.Path(out_root) if out_root is not None else pretrained.root()
  out_root.mkdir(parents=True, exist_ok=True)
  staging, final = out_root / f".{name}.tmp", out_root / name
  shutil.rmtree(staging, ignore_errors=True)
  staging.mkdir()
  try:
    (staging / exports.PARAMS_FILE).write_bytes(params_bytes)
    (staging / "config.json").write_bytes(config_bytes)
    files = {exports.PARAMS_FILE: len(params_bytes), "config.json": len(config_bytes)}
    if prior_bytes:
      (staging / latent_prior_lib.FILE).write_bytes(prior_bytes)
      files[latent_prior_lib.FILE] = len(prior_bytes)
    measurement_key = _measurement_key(params, json.loads(config_bytes), prior_bytes, digest)
    figures = _earlier_figures(final, measurement_key)
    if figures is None:
      log(f"measuring the shipped copy on the test split ({melodies} melodies)")
      figures = _measure(staging, arrays, log)
    else:
      log(f"the test split's figures of {final} read nothing that changed (the critic, E or the "
          "config's record at most): kept, not measured again")
    commit = _git("rev-parse", "HEAD")  # None outside a git checkout
    manifest = {
        "name": name, "command": command, "device": device, "wall_time_s": wall_time_s,
        "steps": json.loads(config_bytes)["step"],
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "git_commit": commit,
        "git_dirty": commit and bool(_git("status", "--porcelain", "--untracked-files=no")),
        "parameter_count": sum(counts.values()), "parameter_counts": counts,
        "size_bytes": size, "files": files,
        "prior": "fitted" if prior_bytes else "standard",
        "dataset": cache_manifest["dataset"],
        "test_split": {"melodies": melodies, "sha256": digest,
                       "cache_fingerprint": cache_manifest.get("fingerprint")},
        "test_metrics": figures, "test_metrics_key": measurement_key,
        "measured_with": {"hrnnvae": hrnnvae.__version__, "jax": jax.__version__,
                          "flax": flax.__version__, "backend": jax.default_backend()},
        "source_config_sha256": source_config_sha256,
    }
    (staging / pretrained.MANIFEST_FILE).write_text(json.dumps(manifest, indent=1) + "\n")
    shutil.rmtree(final, ignore_errors=True)
    os.replace(staging, final)
  finally:
    shutil.rmtree(staging, ignore_errors=True)
  log(f"shipped {final}")
  return final


def _sampling_merged(description: dict, settings: dict) -> tuple[dict, dict]:
  """(before, after): a model description's sampling settings (exports.sampling_settings), and
  the same with `settings` (sampling keys) in force. Both ship() and set_sampling() change them
  this way."""
  before = exports.sampling_settings(description)
  return before, {**before, **{key: float(value) for key, value in settings.items()}}


def set_sampling(model_dir: str | pathlib.Path, settings: dict, *, chosen_by: str,
                 log: Log = None) -> dict:
  """Makes `settings` (a subset of exports.SAMPLING_KEYS) the model's own sampling settings: its
  config.json's "sampling" facts, which every tool reads (Sampler). model_dir: a run's export/
  or a shipped model's folder; a shipped one's manifest.json gets the new file sizes and a
  "sampling_changes" record (date, settings before and after, chosen_by: how they were chosen).
  The parameters are untouched. Returns the settings now in force."""
  log, model_dir = log or progress.silent, pathlib.Path(model_dir)
  unknown = set(settings) - set(exports.SAMPLING_KEYS)
  if unknown:
    raise PostTrainingError(f"unknown sampling settings {sorted(unknown)}: the settings are "
                            f"{', '.join(exports.SAMPLING_KEYS)}")
  config_path = model_dir / "config.json"
  if not config_path.is_file():
    raise PostTrainingError(f"no model in {model_dir}: pass a run's export/ or a shipped model")
  description = json.loads(config_path.read_text())
  before, after = _sampling_merged(description, settings)
  description["sampling"] = after
  config_path.write_text(json.dumps(description, indent=1))
  manifest_path = model_dir / pretrained.MANIFEST_FILE
  if manifest_path.is_file():
    manifest = json.loads(manifest_path.read_text())
    manifest["files"]["config.json"] = config_path.stat().st_size
    manifest["size_bytes"] = sum(manifest["files"].values())
    manifest.setdefault("sampling_changes", []).append({
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "before": before, "after": after, "chosen_by": chosen_by})
    manifest_path.write_text(json.dumps(manifest, indent=1) + "\n")
  log(f"{model_dir}: sampling settings now {after}")
  return after


def device_description() -> str:
  """What this process computes on, for a manifest: '2-core CPU' or '1x NVIDIA H200'."""
  devices = jax.devices()
  if devices[0].platform == "cpu":
    return f"{os.cpu_count()}-core CPU"
  return f"{len(devices)}x {devices[0].device_kind}"


class RunClock:
  """The wall time of a training run over all its calls (a resumed run is one run): each call
  is a record in workdir/run_time.json, rewritten as the call goes (`tick`), so a call that is
  killed still counts up to its last tick."""

  def __init__(self, workdir: str | pathlib.Path, step: int):
    self.path = pathlib.Path(workdir) / RUN_TIME_FILE
    self.calls = json.loads(self.path.read_text())["calls"] if self.path.is_file() else []
    self.start = time.monotonic()
    self.calls.append({"started": datetime.datetime.now(datetime.timezone.utc).isoformat(
        timespec="seconds"), "from_step": step, "to_step": step, "seconds": 0.0})

  def tick(self, step: int) -> None:
    self.calls[-1].update(to_step=step, seconds=round(time.monotonic() - self.start, 1))
    self.path.write_text(json.dumps({"calls": self.calls}, indent=1) + "\n")

  @staticmethod
  def total_seconds(workdir: str | pathlib.Path) -> float:
    path = pathlib.Path(workdir) / RUN_TIME_FILE
    if not path.is_file():
      return 0.0
    return float(sum(call["seconds"] for call in json.loads(path.read_text())["calls"]))


def _export_step(export_dir: pathlib.Path) -> int:
  return int(json.loads((export_dir / "config.json").read_text())["step"])


def _apply_recipe_sampling(config, export_dir: pathlib.Path, record: dict, step: int,
                           log: Log) -> dict:
  """Makes the export sample as the run's config (config.sample) asks when the config changed a
  setting after the export was written: a recipe whose sampling was chosen after training then
  ships with it when its one command runs again. The settings compared against are those the
  config gave at the last call for this export (record["sampling"]), else the export's own, so a
  setting changed by hand on the export (set_sampling) stays until the config changes it.
  Updates `record`; returns the settings changed."""
  recipe = {key: float(config.sample[key]) for key in exports.SAMPLING_KEYS if key in config.sample}
  description = json.loads((export_dir / "config.json").read_text())
  current = {key: float(value) for key, value in exports.sampling_settings(description).items()}
  last = record.get("sampling", {})
  before = last["settings"] if last.get("export_step") == step else current
  changed = {key: value for key, value in recipe.items()
             if before.get(key) != value and current.get(key) != value}
  if changed:
    set_sampling(export_dir, changed, chosen_by="the run's config (config.sample)", log=log)
  record["sampling"] = {"export_step": step, "settings": recipe}
  return changed


RECORDED_SECTIONS = ("post", "sample")  # the config's sections a later call may change


def _record_config_sections(config, export_dir: pathlib.Path, log: Log) -> list[str]:
  """Writes the config's post-training and sampling sections (RECORDED_SECTIONS) into the
  export's recorded config (config.json's "config") when they differ from those recorded: the
  export was written by the call that trained it, and a later call that only runs the stages
  after training (another ship_as, adapters asked for, the plain one command resuming a screen)
  must leave a record of what it asked, so a shipped model's config says how it was made.
  Returns the sections changed."""
  description = json.loads((export_dir / "config.json").read_text())
  recorded = description.setdefault("config", {})
  asked = {section: json.loads(json.dumps(config[section].to_dict(), default=str))  # as stored
           for section in RECORDED_SECTIONS if section in config}
  changed = [section for section, values in asked.items() if recorded.get(section) != values]
  if changed:
    for section in changed:
      recorded[section] = asked[section]
    (export_dir / "config.json").write_text(json.dumps(description, indent=1, default=str))
    log(f"{export_dir}: recorded this call's config sections {changed} in config.json")
  return changed


def run_stages(config, workdir: str | pathlib.Path, *, command: str, arrays: dict | None = None,
               log: Log = None) -> dict:
  """What follows training, as `config` asks, each stage once for the run's current export:

    latent prior   config.train.fit_latent_prior (a VAE of the hrnnvae family)
    critic's fit   config.post.critic_fit_steps > 0 (config.post.critic_fit_per_emotion,
                   reading config.post.critic_input in windows of config.post.critic_bars,
                   resampling the quadrants with config.post.critic_min_windows real windows)
    E's fit        config.post.emotion_fit_steps > 0 (config.post.emotion_fit_per_emotion)
    bar adapter    config.post.bar_adapter_steps > 0 (config.post.bar_adapter_dim units at
                   config.post.bar_adapter_learning_rate; bar_adapter.py)
    transfer adapter  config.post.transfer_adapter_steps > 0 (at
                   config.post.transfer_adapter_learning_rate and _keep_weight, decoding at
                   _fit_keep; transfer_adapter.py), after the bar adapter; a new bar adapter
                   drops it, so it is fitted again; then config.post.transfer_adapter_refine_steps
                   more from it at _refine_keep (a new first leg redoes the second)
    shipping       config.post.ship_as: NAME (into config.post.ship_root, else the package)

  First, the config's post and sample sections are recorded in the export's config
  (_record_config_sections: a call after the one that trained may ask for other stages), and a
  sampling setting the config changed since the export was written is set on the export
  (_apply_recipe_sampling), so the fits and the shipped model use the recipe's settings.

  A stage already done for this export is skipped (workdir/stages.json records the prior's
  export step; the critic's and E's fits are recorded in the export's config.json, which a new
  export replaces, with the FIT_SAMPLING settings their samples were drawn with, so new sampling
  settings (post_training.set_sampling) redo them, as another step count, critic_input or
  critic_bars does;
  the shipped manifest records the export's
  config.json digest), so calling it again after an interruption does only what is left. The
  manifest gets `command` (config.post.command wins when set), this machine's devices and the
  run's wall time: its training calls (workdir/run_time.json) plus these stages. arrays: the
  cache's arrays when the caller has them. Returns {stage: what happened}."""
  log, workdir = log or progress.silent, pathlib.Path(workdir)
  from hrnnvae.models.hparams import config_values  # noqa: PLC0415 - models import jax modules
  post = config_values(config.post, "post", POST_FIELDS)
  export_dir, cache_dir = workdir / "export", config.data.cache_dir
  stages_path = workdir / STAGES_FILE
  record = json.loads(stages_path.read_text()) if stages_path.is_file() else {}
  if not (export_dir / "config.json").is_file():
    raise PostTrainingError(f"no export in {workdir}: train first (hrnnvae-train --workdir=...)")
  step = _export_step(export_dir)
  model = json.loads((export_dir / "config.json").read_text())["model"]
  done = {}
  _record_config_sections(config, export_dir, log)

  def timed(stage: str, work: Callable[[], object]) -> None:
    started = time.monotonic()
    work()
    record[stage] = {"export_step": step, "seconds": round(time.monotonic() - started, 1)}
    stages_path.write_text(json.dumps(record, indent=1) + "\n")
    done[stage] = f"done in {record[stage]['seconds']:.0f} s"

  if "sample" in config:
    applied = _apply_recipe_sampling(config, export_dir, record, step, log)
    stages_path.write_text(json.dumps(record, indent=1) + "\n")
    if applied:
      done["sampling"] = f"set from the config: {applied}"
  has_latent = model.get("use_vae", True) and model.get("family", "hrnnvae") == "hrnnvae"
  if config.train.fit_latent_prior and has_latent:
    fitted = record.get("latent_prior", {}).get("export_step") == step
    if fitted and (export_dir / latent_prior_lib.FILE).is_file():
      done["latent_prior"] = "already fitted to this export"
    else:
      timed("latent_prior", lambda: fit_latent_prior(
          export_dir, cache_dir, max_steps=config.data.max_steps,
          max_windows=config.train.latent_prior_windows, seed=config.seed, arrays=arrays, log=log,
          components=config.train.get("latent_prior_components", 1)))
  if post["bar_adapter_steps"]:
    description = json.loads((export_dir / "config.json").read_text())
    fitted = description.get("bar_adapter_fit") or {}
    asked = {"width": post["bar_adapter_dim"], "steps": post["bar_adapter_steps"],
             "learning_rate": float(post["bar_adapter_learning_rate"])}
    if {key: fitted.get(key) for key in asked} == asked:
      done["bar_adapter"] = "the bar adapter already fitted in this export"
    else:
      timed("bar_adapter", functools.partial(
          fit_bar_adapter, export_dir, cache_dir, width=post["bar_adapter_dim"],
          steps=post["bar_adapter_steps"], learning_rate=post["bar_adapter_learning_rate"],
          beta=config.loss.beta_max, free_bits=config.loss.free_bits,
          grad_clip_norm=config.train.grad_clip_norm, max_steps=config.data.max_steps,
          seed=config.seed, bucket_by_bar=config.train.bucket_by_bar, log=log))
  if post["transfer_adapter_steps"]:
    description = json.loads((export_dir / "config.json").read_text())
    asked = transfer_fit_asked(description, post["transfer_adapter_steps"],
                               post["transfer_adapter_learning_rate"],
                               post["transfer_adapter_keep_weight"],
                               post["transfer_adapter_tune_steps"],
                               post["transfer_adapter_fit_keep"])
    leg = functools.partial(
        fit_transfer_adapter, export_dir, cache_dir,
        learning_rate=post["transfer_adapter_learning_rate"],
        keep_weight=post["transfer_adapter_keep_weight"],
        grad_clip_norm=config.train.grad_clip_norm, max_steps=config.data.max_steps,
        seed=config.seed, tune_steps=post["transfer_adapter_tune_steps"],
        bucket_by_bar=config.train.bucket_by_bar, log=log)
    recorded = description.get(TRANSFER_FIT_KEY) or {}
    # A second leg the config no longer asks for is undone by fitting the first again.
    unasked_leg = TRANSFER_REFINE_KEY in recorded and not post["transfer_adapter_refine_steps"]
    if recorded.get("asked") == asked and not unasked_leg:
      done["transfer_adapter"] = "the transfer adapter already fitted in this export"
    else:  # a new first leg drops the record of any second
      timed("transfer_adapter", functools.partial(
          leg, steps=post["transfer_adapter_steps"], fit_keep=post["transfer_adapter_fit_keep"]))
    if post["transfer_adapter_refine_steps"]:
      description = json.loads((export_dir / "config.json").read_text())
      refine_asked = transfer_fit_asked(
          description, post["transfer_adapter_refine_steps"],
          post["transfer_adapter_learning_rate"], post["transfer_adapter_keep_weight"],
          post["transfer_adapter_tune_steps"], post["transfer_adapter_refine_keep"])
      if description[TRANSFER_FIT_KEY].get(TRANSFER_REFINE_KEY, {}).get("asked") == refine_asked:
        done["transfer_adapter_refine"] = "the transfer adapter already refined in this export"
      else:
        timed("transfer_adapter_refine", functools.partial(
            leg, steps=post["transfer_adapter_refine_steps"],
            fit_keep=post["transfer_adapter_refine_keep"], refine=True))
  fits = (  # (stage, its config.post prefix, its record in config.json, the fit, the options the
      #     config gives it, those a recorded fit had, when done)
      ("critic_fit", "critic_fit", "realism_critic_fit", fit_critic,
       {"input_kind": post["critic_input"], "min_real_windows": post["critic_min_windows"],
        "bars": post["critic_bars"], "repetition": post["critic_repetition"],
        "register": post["critic_register"], "fits": post["critic_fits"]},
       realism_critic.fit_options, "the realism critic already fitted in this export"),
      ("emotion_fit", "emotion_fit", "emotion_classifier_fit", fit_emotion_classifier, {},
       lambda report: {}, "E already fitted in this export"))
  for stage, prefix, recorded_as, fit, options, recorded_options, already in fits:
    if not post[f"{prefix}_steps"]:
      continue
    description = json.loads((export_dir / "config.json").read_text())
    fitted = description.get(recorded_as)
    asked = {"steps": post[f"{prefix}_steps"], **options}
    had = None if fitted is None else {"steps": fitted.get("steps"), **recorded_options(fitted)}
    if had == asked and recorded_fit_sampling(fitted) == _fit_sampling(description):
      done[stage] = already
    else:
      if fitted is not None and had != asked:
        log(f"{stage}: fitted with {had}; the config asks for {asked}: fitting it again")
      elif fitted is not None:
        log(f"{stage}: fitted on samples drawn with {fitted.get('sampling', 'settings not recorded')}"
            f"; the model now samples with {_fit_sampling(description)}: fitting it again")
      timed(stage, functools.partial(
          fit, export_dir, cache_dir, per_emotion=post[f"{prefix}_per_emotion"],
          steps=post[f"{prefix}_steps"], seed=config.seed, log=log, **options))
  if post["ship_as"]:
    out_root = pathlib.Path(post["ship_root"]) if post["ship_root"] else pretrained.root()
    manifest_path = out_root / post["ship_as"] / pretrained.MANIFEST_FILE
    digest = hashlib.sha256((export_dir / "config.json").read_bytes()).hexdigest()
    if (manifest_path.is_file()
        and json.loads(manifest_path.read_text()).get("source_config_sha256") == digest):
      done["ship"] = f"this export is already shipped as {manifest_path.parent}"
    else:
      stage_seconds = sum(record.get(stage, {}).get("seconds", 0.0)
                          for stage in ("latent_prior", "bar_adapter", "transfer_adapter",
                                        "transfer_adapter_refine", "critic_fit", "emotion_fit")
                          if record.get(stage, {}).get("export_step") == step)
      timed("ship", lambda: ship(
          export_dir, post["ship_as"], cache_dir, command=post["command"] or command,
          device=device_description(),
          wall_time_s=round(RunClock.total_seconds(workdir) + stage_seconds, 1),
          out_root=out_root, log=log))
  return done
