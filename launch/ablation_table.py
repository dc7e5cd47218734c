"""The ablation table at equal training steps: each run's validation figures at one step, read
from its metrics.jsonl (written by hrnnvae-train), beside the full model's at the same step.

  python launch/ablation_table.py --step=600 \
      --workdirs=runs/nottingham_cpu,runs/ablation_continuous,runs/ablation_no_position

A fair comparison when a full run to early stopping per ablation is out of reach (a 2-core
CPU): every run uses the same config, data order and seed, and differs only in its variant.
Prints a markdown table; --out writes it too.
"""

from __future__ import annotations

import json
import pathlib

from absl import app, flags

_WORKDIRS = flags.DEFINE_list("workdirs", None, "Training runs; the first is the reference.")
_STEP = flags.DEFINE_integer("step", None, "The step whose validation figures are compared.")
_OUT = flags.DEFINE_string("out", None, "Also write the table here.")
COLUMNS = ("valid/loss", "valid/reconstruction_loss", "valid/accuracy", "valid/kl")


def validation_at(workdir: pathlib.Path, step: int) -> dict:
  """The validation line of metrics.jsonl at `step` (ValueError naming the steps there are)."""
  lines = [json.loads(line) for line in (workdir / "metrics.jsonl").read_text().splitlines()]
  valid = {line["step"]: line for line in lines if "valid/loss" in line}
  if step not in valid:
    raise ValueError(f"{workdir} has no validation at step {step}; it has {sorted(valid)}")
  return valid[step]


def variant_of(workdir: pathlib.Path) -> str:
  config = json.loads((workdir / "export" / "config.json").read_text())["config"]
  return config.get("variant") or "full model"


def table(workdirs: list[pathlib.Path], step: int) -> str:
  rows = ["| run | variant | valid loss | NLL nats/step | accuracy | KL nats |",
          "|---|---|---|---|---|---|"]
  for workdir in workdirs:
    line = validation_at(workdir, step)
    rows.append(f"| {workdir.name} | {variant_of(workdir)} | " +
                " | ".join(f"{line[c]:.4f}" if c != "valid/kl" else f"{line[c]:.1f}"
                           for c in COLUMNS) + " |")
  return "\n".join(rows) + "\n"


def main(argv):
  del argv
  text = f"Validation at step {_STEP.value}\n\n" + table(
      [pathlib.Path(w) for w in _WORKDIRS.value], _STEP.value)
  print(text)
  if _OUT.value:
    pathlib.Path(_OUT.value).write_text(text)


if __name__ == "__main__":
  flags.mark_flags_as_required(["workdirs", "step"])
  app.run(main)
