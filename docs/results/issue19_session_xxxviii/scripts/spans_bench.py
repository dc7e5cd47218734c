"""Session (xxxviii): realism_spans.real_spans on a whole cache with the spans recipe's columns,
op by op (the function as it was) against compiled once per meter (as now), and their largest
difference.
  PYTHONPATH=. .venv/bin/python docs/results/issue19_session_xxxviii/scripts/spans_bench.py CACHE
(CACHE: `hrnnvae-data prepare --dataset=nottingham --source=DIR --out=CACHE --transpose=5`)."""
import dataclasses
import json
import pathlib
import runpy
import sys
import time

import jax.numpy as jnp
import numpy as np

from hrnnvae import judge, melody_mmd
from hrnnvae.train import input_pipeline, realism_spans
from hrnnvae.train.step import LossHParams

cache = sys.argv[1]
config = runpy.run_path("configs/default.py")["get_config"]()
loss_hp = dataclasses.replace(
    LossHParams.from_config(config.loss), realism_phrases=True, realism_bar_repetition=True,
    realism_bar_part_bars=32, realism_part_lift=True, realism_real_bars=32,
    realism_gram_repetition=True, realism_per_quadrant=True, realism_long_notes=True,
    realism_register=True, realism_rests=True)
arrays = input_pipeline.load(cache).arrays
thresholds = judge.thresholds_of(json.loads((pathlib.Path(cache) / "manifest.json").read_text()))
start = time.time()
compiled = realism_spans.real_spans(arrays, thresholds, loss_hp)
compiled_s = time.time() - start
melody_mmd.compiled_style_features = melody_mmd.style_features  # op by op, as before
start = time.time()
eager = realism_spans.real_spans(arrays, thresholds, loss_hp)
eager_s = time.time() - start
print(f"spans {len(compiled.features)}, meters {np.unique(np.asarray(compiled.steps_per_bar)).tolist()}; "
      f"op by op {eager_s:.1f} s, compiled {compiled_s:.1f} s; largest difference "
      f"{float(jnp.abs(compiled.features - eager.features).max()):.2e}")
