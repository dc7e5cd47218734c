"""hrnnvae-bench: figures that the engineering log keeps (never timed unit tests).

  hrnnvae-bench train --config=configs/nottingham.py [--steps=20] [--json=FILE]
prints compile time and train steps/s of the config's jitted train_step on the current backend
(all local devices, data parallel), as a table, and writes the same figures as JSON.
"""

from __future__ import annotations

import functools
import json
import time

import jax
import numpy as np
from absl import app, flags
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P
from ml_collections import config_flags

from hrnnvae.models.hparams import ModelHParams
from hrnnvae.train import input_pipeline
from hrnnvae.train import step as step_lib

_CONFIG = config_flags.DEFINE_config_file("config", None, "A configs/*.py file.")
_STEPS = flags.DEFINE_integer("steps", 20, "Timed steps after the compiling one.")
_REPEATS = flags.DEFINE_integer("repeats", 3, "Timed rounds of --steps; the median is reported.")
_JSON = flags.DEFINE_string("json", None, "Where to write the figures.")


def bench_train(config, steps: int, repeats: int) -> dict:
  data = input_pipeline.load(config.data.cache_dir, config.data.max_steps)
  hp = ModelHParams.from_config(config.model, data.num_steps, data.min_steps_per_bar,
                                data.max_steps_per_bar)
  models = step_lib.Models.from_config(config, hp)
  batch_size = config.train.batch_size
  mesh = Mesh(np.array(jax.devices()), ("data",))
  data_sharding, replicated = NamedSharding(mesh, P("data")), NamedSharding(mesh, P())
  state = jax.device_put(
      step_lib.init_state(models, jax.random.key(0), batch_size, data.num_steps), replicated)
  train_step = jax.jit(functools.partial(step_lib.train_step, models=models),
                       in_shardings=(replicated, data_sharding, replicated),
                       out_shardings=(replicated, replicated), donate_argnums=0)
  batches = [jax.device_put(batch, data_sharding) for _, batch in zip(
      range(4), input_pipeline.train_batches(data.splits["train"], batch_size, 0, 0))]
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
  return {"config": config.data.cache_dir, "variant": config.variant, "backend": jax.default_backend(),
          "device": jax.devices()[0].device_kind, "devices": jax.device_count(),
          "batch_size": batch_size, "num_steps": data.num_steps, "compile_s": compile_s,
          "steps_per_s": steps_per_s, "melodies_per_s": steps_per_s * batch_size,
          "steps_per_epoch": input_pipeline.steps_per_epoch(data.splits["train"], batch_size)}


def main(argv):
  if len(argv) != 2 or argv[1] != "train":
    raise app.UsageError("say which benchmark: train")
  result = bench_train(_CONFIG.value, _STEPS.value, _REPEATS.value)
  print(f"{'backend':<8}{'device':<24}{'devices':>8}{'batch':>6}{'steps':>6}{'compile s':>10}"
        f"{'steps/s':>9}{'melodies/s':>11}{'s/epoch':>9}")
  print(f"{result['backend']:<8}{result['device'][:23]:<24}{result['devices']:>8}"
        f"{result['batch_size']:>6}{result['num_steps']:>6}{result['compile_s']:>10.1f}"
        f"{result['steps_per_s']:>9.2f}{result['melodies_per_s']:>11.0f}"
        f"{result['steps_per_epoch'] / result['steps_per_s']:>9.1f}")
  if _JSON.value:
    with open(_JSON.value, "w") as f:
      json.dump(result, f, indent=1)


def run():
  app.run(main)


if __name__ == "__main__":
  run()
