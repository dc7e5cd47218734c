"""Session (xxxv): one fine-tune step with the two backward passes (the step as it is) against the
joint pullback (every term marked as reading the reconstruction), both compiled in one process and
timed alternately, 4 rounds: relative figures on a shared machine.
  PYTHONPATH=. .venv/bin/python docs/results/issue19_session_xxxv/scripts/split_vs_joint.py \
      --config=configs/nottingham_ship.py --config.data.cache_dir=CACHE [--config.loss....]
"""
import dataclasses, functools, time, sys
import jax, jax.numpy as jnp, numpy as np
from absl import app
from ml_collections import config_flags
from hrnnvae.models.hparams import ModelHParams
from hrnnvae.train import input_pipeline, step as step_lib
_CONFIG = config_flags.DEFINE_config_file("config", None, "")
def main(argv):
  config = _CONFIG.value
  data = input_pipeline.load(config.data.cache_dir, config.data.max_steps)
  hp = ModelHParams.from_config(config.model, data.num_steps, data.min_steps_per_bar, data.max_steps_per_bar, data.max_bars)
  models = step_lib.Models.from_config(config, hp, data.facts["arousal_thresholds"], input_pipeline.real_span_arrays(data, config))
  joint = dataclasses.replace(models, generator_terms=tuple(dataclasses.replace(t, reads_reconstruction=True) for t in models.generator_terms))
  split = data.splits["train"]
  buckets = input_pipeline.train_buckets(data, config.train.batch_size, config.train.bucket_by_bar)
  plan = input_pipeline.epoch_plan(split, config.train.batch_size, 0, 0, buckets)
  widths = [w for _, w in plan]; width = max(set(widths), key=widths.count)
  rows = next(r for r, w in plan if w == width)
  num_steps = min(data.num_steps, data.max_bars * width)
  batch = jax.tree.map(jnp.asarray, {**split.take(rows), "events": split.events[rows][:, :num_steps]})
  state = step_lib.init_state(models, jax.random.key(0), config.train.batch_size, data.num_steps)
  fns = {n: jax.jit(functools.partial(step_lib.train_step, models=m, grid=(data.max_bars, width))) for n, m in (("split", models), ("joint", joint))}
  for n, f in fns.items(): jax.block_until_ready(f(state, batch, jax.random.key(1)))
  times = {n: [] for n in fns}
  for r in range(4):
    for n, f in fns.items():
      t = time.perf_counter(); jax.block_until_ready(f(state, batch, jax.random.key(1))); times[n].append(time.perf_counter() - t)
  for n, v in times.items(): print(n, "median s", np.median(v), v)
app.run(main)
