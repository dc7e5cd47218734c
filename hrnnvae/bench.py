"""hrnnvae-bench: figures that the engineering log keeps (never timed unit tests).

  hrnnvae-bench train --config=configs/nottingham.py [--variants=,paper] [--steps=20]
    compile time and train steps/s of the config's jitted train_step on the current backend
    (all local devices, data parallel), for each variant (the config as given first) and each
    phase (ELBO only; fine-tune with every loss), with each row's speed-up over the last
    variant's fine-tune step in the same run;
  hrnnvae-bench latency --config=configs/nottingham.py [--bars=32] [--batch_sizes=1,64,1024]
    p50/p99 wall time of the jitted free-running decode from a warm function to host tokens
    (at the model's attention reach and in its sections, Sampler.attention_bars and
    section_bars),
    compile time and melodies/s, on randomly initialised weights of the config's model (the
    cost does not depend on the weights) or on a trained --export; and the p50 of the whole
    prior sample (z, the decode, and with the model's candidates K > 1 its K decodes and its
    realism critic's choice: realism_critic.py).
  hrnnvae-bench pieces --config=configs/nottingham_ship.py [--config.loss....=...] [--repeats=3]
    where a fine-tune step's time goes (issue 19: the one command's 150 minutes): on one batch
    of the most common bar bucket, each piece jitted on its own, the median of --repeats calls:
    the whole step in each phase; drawing the fine-tune samples (aux_terms.draw_prior_samples);
    their straight-through re-scoring, value and gradient; their style features
    (melody_mmd.style_features), value and gradient; the realism term on fixed samples; the
    conditional MMD alone. XLA fuses across the pieces inside the step, so they do not sum to it.
Each prints a table and writes the same figures as JSON (--json).
"""

from __future__ import annotations

import functools
import json
import pathlib
import time

import jax
import jax.numpy as jnp
import numpy as np
from absl import flags
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P
from ml_collections import config_flags

from hrnnvae import cli, melody_mmd
from hrnnvae import models as models_lib
from hrnnvae.exports import model_dir
from hrnnvae.models.hparams import ModelHParams
from hrnnvae.sample import Sampler
from hrnnvae.train import aux_terms, input_pipeline, realism_spans
from hrnnvae.train import step as step_lib

_CONFIG = config_flags.DEFINE_config_file("config", None, "A configs/*.py file.")
_STEPS = flags.DEFINE_integer("steps", 20, "Timed steps after the compiling one.")
_REPEATS = flags.DEFINE_integer("repeats", 3, "Timed rounds of --steps; the median is reported.")
_JSON = flags.DEFINE_string("json", None, "Where to write the figures.")
_BARS = flags.DEFINE_integer("bars", 32, "latency: bars per melody (16 steps each).")
_BATCH_SIZES = flags.DEFINE_list("batch_sizes", ["1", "64", "1024"], "latency: batch sizes.")
_CALLS = flags.DEFINE_integer("calls", 50, "latency: timed calls at batch 1 (fewer at larger).")
_EXPORT = flags.DEFINE_string("export", None, "latency: a trained export/ instead of random weights.")
_VARIANTS = flags.DEFINE_list("variants", ["", "paper"],
                              "train: config variants to time ('' is the config as given).")


def common_bucket(config):
  """(data, models, the first epoch's plan, the width of its most common bar bucket, the steps
  a batch of that bucket holds): what a timing of the config's train step runs on."""
  data = input_pipeline.load(config.data.cache_dir, config.data.max_steps)
  hp = ModelHParams.from_config(config.model, data.num_steps, data.min_steps_per_bar,
                                data.max_steps_per_bar, data.max_bars)
  models = step_lib.Models.from_config(config, hp, data.facts["arousal_thresholds"],
                                       input_pipeline.real_span_arrays(data, config))
  buckets = input_pipeline.train_buckets(data, config.train.batch_size, config.train.bucket_by_bar)
  plan = input_pipeline.epoch_plan(data.splits["train"], config.train.batch_size, 0, 0, buckets)
  widths = [width for _, width in plan]
  width = max(set(widths), key=widths.count)
  num_steps = min(data.num_steps, data.max_bars * width) if config.train.bucket_by_bar else data.num_steps
  return data, models, plan, width, num_steps


def bench_train(config, steps: int, repeats: int, finetune: bool = True) -> dict:
  """Steps/s of one phase of train_step on batches of the data's most common bar bucket."""
  data, models, plan, width, num_steps = common_bucket(config)
  batch_size, split = config.train.batch_size, data.splits["train"]
  mesh = Mesh(np.array(jax.devices()), ("data",))
  data_sharding, replicated = NamedSharding(mesh, P("data")), NamedSharding(mesh, P())
  state = jax.device_put(
      step_lib.init_state(models, jax.random.key(0), batch_size, data.num_steps), replicated)
  train_step = jax.jit(functools.partial(step_lib.train_step, models=models,
                                         grid=(data.max_bars, width), finetune=finetune),
                       in_shardings=(replicated, data_sharding, replicated),
                       out_shardings=(replicated, replicated), donate_argnums=0)
  batches = [jax.device_put({**split.take(rows), "events": split.events[rows][:, :num_steps]},
                            data_sharding) for rows, w in plan if w == width][:4]
  rng = jax.random.key(1)
  start = time.perf_counter()
  state, metrics = train_step(state, batches[0], rng)
  jax.block_until_ready(metrics)
  compile_s = time.perf_counter() - start
  rounds = []
  for _ in range(repeats):
    start = time.perf_counter()
    for index in range(steps):
      state, metrics = train_step(state, batches[index % len(batches)], rng)
    jax.block_until_ready(metrics)
    rounds.append(steps / (time.perf_counter() - start))
  steps_per_s = float(np.median(rounds))
  return {"config": config.data.cache_dir, "variant": config.variant,
          "phase": "fine-tune" if finetune else "elbo", "backend": jax.default_backend(),
          "device": jax.devices()[0].device_kind, "devices": jax.device_count(),
          "batch_size": batch_size, "num_steps": num_steps, "compile_s": compile_s,
          "steps_per_s": steps_per_s, "melodies_per_s": steps_per_s * batch_size,
          "steps_per_epoch": len(plan)}


def _timed(fn, *args, repeats: int) -> tuple[float, float]:
  """(compile and first call s, median s of the next `repeats` calls)."""
  start = time.perf_counter()
  jax.block_until_ready(fn(*args))
  first = time.perf_counter() - start
  times = []
  for _ in range(repeats):
    start = time.perf_counter()
    jax.block_until_ready(fn(*args))
    times.append(time.perf_counter() - start)
  return first, float(np.median(times))


def bench_pieces(config, repeats: int) -> dict:
  """Seconds of each piece of the config's fine-tune step (the module docstring's `pieces`)."""
  data, models, plan, width, num_steps = common_bucket(config)
  hp, batch_size, split = models.vae.hp, config.train.batch_size, data.splits["train"]
  rows = next(rows for rows, w in plan if w == width)
  batch = jax.tree.map(jnp.asarray, {**split.take(rows), "events": split.events[rows][:, :num_steps]})
  grid = (data.max_bars, width)
  state = step_lib.init_state(models, jax.random.key(0), batch_size, data.num_steps)
  mask = step_lib._mask(batch)  # noqa: SLF001 (the step's own mask)
  figures = {}

  def record(name, fn, *args):
    first, median = _timed(fn, *args, repeats=repeats)
    figures[name] = {"first_s": first, "median_s": median}
    print(f"{name:<10} first call {first:8.1f} s   median {median:8.3f} s", flush=True)

  for finetune, name in ((False, "elbo_step"), (True, "step")):
    step = jax.jit(functools.partial(step_lib.train_step, models=models, grid=grid,
                                     finetune=finetune))
    record(name, step, state, batch, jax.random.key(1))
  if not models.generator_terms:
    print("the config's fine-tune has no generator terms: nothing more to time")
  else:
    target_B = aux_terms.target_emotions(models.loss, batch, jax.random.key(2), hp.num_emotions)
    draw = jax.jit(lambda params, batch, rng: aux_terms.draw_prior_samples(
        models, params, batch, mask, target_B, rng, jax.random.fold_in(rng, 1), grid))
    record("draw", draw, state.vae_params, batch, jax.random.key(3))
    prior = draw(state.vae_params, batch, jax.random.key(3))
    if prior.grid is not None:  # jit returned the static grid as arrays
      prior = prior._replace(grid=tuple(int(size) for size in prior.grid))

    def rescored(params):
      return aux_terms.straight_through(models, params, batch, prior).sum()
    record("rescore", jax.jit(jax.value_and_grad(rescored)), state.vae_params)
    samples = aux_terms.straight_through(models, state.vae_params, batch, prior)
    extra = realism_spans.feature_options(models.loss)
    lengths = prior.mask_BxT.sum(1)

    def features(rows):
      return melody_mmd.style_features(rows, prior.events_BxT, lengths, batch["steps_per_bar"],
                                       **extra).sum()
    record("features", jax.jit(jax.value_and_grad(features)), samples)
    if models.loss.realism_weight > 0:
      def realism(rows):
        inputs = aux_terms.TermInputs(models, state, batch, mask, None, prior, rows)
        return aux_terms.realism_term(inputs)[0]
      record("realism", jax.jit(jax.value_and_grad(realism)), samples)
      generated = melody_mmd.style_features(samples, prior.events_BxT, lengths,
                                            batch["steps_per_bar"], **extra)
      real, real_emotion = aux_terms.realism_real_side(models, batch, prior.events_BxT.shape[1],
                                                       hp.num_classes)
      print(f"mmd: {generated.shape[0]} samples against {real.shape[0]} real melodies, "
            f"{real.shape[1]} columns")

      def mmd(features_NxF):
        return melody_mmd.conditional_mmd(features_NxF, prior.target_B, real, real_emotion,
                                          per_quadrant=models.loss.realism_per_quadrant)
      record("mmd", jax.jit(jax.value_and_grad(mmd)), generated)
  return {"backend": jax.default_backend(), "device": jax.devices()[0].device_kind,
          "batch_size": batch_size, "num_steps": num_steps, "grid": list(grid),
          "prior_sample_bars": models.loss.prior_sample_bars, "figures": figures}


def _random_sampler(config, bars: int) -> Sampler:
  steps_per_bar = 16
  hp = ModelHParams.from_config(config.model, bars * steps_per_bar, steps_per_bar, steps_per_bar)
  vae_params = models_lib.build(hp).init(
      jax.random.key(0), jnp.zeros((1, 16), jnp.int32), jnp.full((1,), 16), jnp.full((1,), 16),
      jnp.zeros((1,), jnp.int32), jax.random.key(1))["params"]
  facts = {"steps_per_bar": steps_per_bar, "time_signature": [4, 4], "qpm": 120.0}
  return Sampler(hp, {"vae": vae_params, "emotion": None}, {"data": facts})


def bench_latency(sampler: Sampler, bars: int, batch_sizes: list[int], calls: int) -> list[dict]:
  rows = []
  num_steps = bars * sampler.steps_per_bar
  for batch in batch_sizes:
    emotions = np.arange(batch) % 4
    sections = sampler.sections(bars)  # the prior sample's decode: the model's sections
    z = sampler.prior(batch, seed=0, emotions=emotions,  # a fitted prior draws per emotion
                      sections=sections, correlation=sampler.section_correlation,
                      repeats=sampler.section_repeats)
    start = time.perf_counter()
    reach = sampler.attention_bars  # ... and its attention reach
    section_bars = sampler.section_bars if sections > 1 else 0
    alone = sampler.hp.prior_drops_bar_latents  # as sample() decodes them
    sampler.decode(z, emotions, num_steps, seed=0, attention_bars=reach, section_bars=section_bars,
                   z_alone=alone)
    compile_s = time.perf_counter() - start
    times = []
    for call in range(max(3, calls * 64 // max(batch, 64) if batch > 1 else calls)):
      start = time.perf_counter()
      sampler.decode(z, emotions, num_steps, seed=call, attention_bars=reach,  # host tokens
                     section_bars=section_bars, z_alone=alone)
      times.append(time.perf_counter() - start)
    p50, p99 = np.percentile(times, 50), np.percentile(times, 99)
    sampler.sample(list(emotions), bars, seed=0)  # warm: the critic's compilation too
    whole = []
    for call in range(max(3, len(times) // max(sampler.candidates, 1))):
      start = time.perf_counter()
      sampler.sample(list(emotions), bars, seed=call)
      whole.append(time.perf_counter() - start)
    rows.append({"batch": batch, "steps": num_steps, "calls": len(times), "compile_s": compile_s,
                 "p50_ms": 1e3 * p50, "p99_ms": 1e3 * p99, "melodies_per_s": batch / p50,
                 "attention_bars": reach, "section_bars": section_bars,
                 "candidates": sampler.candidates,
                 "sample_p50_ms": 1e3 * np.percentile(whole, 50)})
  return rows


def main(argv):
  if len(argv) != 2 or argv[1] not in ("train", "latency", "pieces"):
    raise cli.UsageError("say which benchmark: train | latency | pieces (see --help)")
  if _CONFIG.value is None and not (argv[1] == "latency" and _EXPORT.value):
    raise cli.UsageError("pass --config=configs/FILE.py (latency: or --export=RUN/export)")
  cli.check_range("steps", _STEPS.value, low=1)
  cli.check_range("repeats", _REPEATS.value, low=1)
  cli.check_range("bars", _BARS.value, low=1, high=512)
  if _JSON.value:
    cli.check_writable_dir(pathlib.Path(_JSON.value).absolute().parent, "json")
  device = f"{jax.default_backend()} {jax.devices()[0].device_kind}"
  if argv[1] == "pieces":
    result = bench_pieces(_CONFIG.value, _REPEATS.value)
  elif argv[1] == "train":
    import runpy  # noqa: PLC0415
    rows = []
    for variant in _VARIANTS.value or [""]:  # --variants= (empty): the config as given
      config = _CONFIG.value
      if variant:  # the same file, arguments and overrides, plus the variant's fields
        path, _, arg = flags.FLAGS["config"].config_filename.partition(":")
        config = runpy.run_path(path)["get_config"](",".join(filter(None, [arg, variant])))
        config.update_from_flattened_dict(flags.FLAGS["config"].override_values)
      for finetune in (False, True):
        rows.append(bench_train(config, _STEPS.value, _REPEATS.value, finetune))
    reference = rows[-1]["steps_per_s"]
    result = {"rows": rows, "reference": "last variant, fine-tune phase"}
    print(f"{'variant':<12}{'phase':<10}{'backend':<8}{'batch':>6}{'steps':>6}{'compile s':>10}"
          f"{'steps/s':>9}{'melodies/s':>11}{'s/epoch':>9}{'speed-up':>9}")
    for row in rows:
      print(f"{row['variant'] or 'as given':<12}{row['phase']:<10}{row['backend']:<8}"
            f"{row['batch_size']:>6}{row['num_steps']:>6}{row['compile_s']:>10.1f}"
            f"{row['steps_per_s']:>9.2f}{row['melodies_per_s']:>11.0f}"
            f"{row['steps_per_epoch'] / row['steps_per_s']:>9.1f}"
            f"{row['steps_per_s'] / reference:>9.2f}")
  else:
    sampler = (Sampler.load(model_dir(_EXPORT.value)) if _EXPORT.value
               else _random_sampler(_CONFIG.value, _BARS.value))
    rows = bench_latency(sampler, _BARS.value, [int(b) for b in _BATCH_SIZES.value], _CALLS.value)
    result = {"device": device, "export": _EXPORT.value, "model": sampler.hp.__dict__, "rows": rows}
    print(f"latency of a {_BARS.value}-bar melody on {device}")
    print(f"{'batch':>6}{'steps':>6}{'calls':>6}{'compile s':>10}{'p50 ms':>9}{'p99 ms':>9}"
          f"{'melodies/s':>12}{'A':>4}{'S':>4}{'K':>4}{'sample p50 ms':>15}")
    for row in rows:
      print(f"{row['batch']:>6}{row['steps']:>6}{row['calls']:>6}{row['compile_s']:>10.2f}"
            f"{row['p50_ms']:>9.2f}{row['p99_ms']:>9.2f}{row['melodies_per_s']:>12.0f}"
            f"{row['attention_bars']:>4}{row['section_bars']:>4}{row['candidates']:>4}"
            f"{row['sample_p50_ms']:>15.2f}")
  if _JSON.value:
    with open(_JSON.value, "w") as f:
      json.dump(result, f, indent=1)
    print(f"hrnnvae-bench: wrote the figures to {_JSON.value}")


FLAG_NAMES = ["config", "variants", "steps", "repeats", "bars", "batch_sizes", "calls", "export",
              "json"]


def run():
  cli.run(main, "hrnnvae-bench", __doc__, FLAG_NAMES)


if __name__ == "__main__":
  run()
