"""summary.json from OUT_DIR's records, and the pack: at most max_files files of at most part_bytes."""

from __future__ import annotations

import json
import math
import pathlib
import re
import shutil
import tarfile
from collections.abc import Callable, Sequence

from hrnnvae.gpu_run.planning import BENCH_KINDS

MIB = 2 ** 20
Log = Callable[[str], None]


def summarize(out_dir: pathlib.Path, names: Sequence[str], final: bool) -> dict:
  """summary.json's content (less "pack") from OUT_DIR's state/ records of every call, runs/ and bench/."""
  calls = []
  for path in sorted((out_dir / "state").glob("call_*.tsv"), key=lambda p: int(p.stem[5:])):
    call = {"call": int(path.stem[5:])}  # info, plan, wheel, device, bench, run, eval
    for line in path.read_text().splitlines():
      section, name, key, value = (line.split("\t") + ["", "", "", ""])[:4]
      value = int(value) if re.fullmatch(r"-?\d+", value) else value
      target = call.setdefault(section, {})
      target = target.setdefault(name, {}) if name != "-" else target
      target[key] = value
    calls.append(call)
  runs = {}
  for name in names:
    workdir = out_dir / "runs" / name
    step = best = None
    if (workdir / "metrics.jsonl").is_file():
      for line in (workdir / "metrics.jsonl").read_text().splitlines():
        try:
          row = json.loads(line)
        except ValueError:
          continue
        step = max(step or 0, row.get("step", 0))
        best = row.get("valid/best_loss", best)
    export = workdir / "export" / "config.json"
    log = out_dir / "logs" / f"{name}.log"
    log_text = log.read_text(errors="replace") if log.is_file() else ""
    stops = re.findall(r"stopped at step (\d+) \((\w+)\)", log_text)
    history = [{"call": c["call"], **c["run"][name]} for c in calls if name in c.get("run", {})]
    runs[name] = {"step": step, "best_valid_loss": best if best is None or math.isfinite(best) else None,
                  "export_step": json.loads(export.read_text()).get("step") if export.is_file() else None,
                  "last_stop": {"step": int(stops[-1][0]), "reason": stops[-1][1]} if stops else None,
                  "status": history[-1].get("status") if history else None, "calls": history}
  bench = {kind: {"written": (out_dir / "bench" / f"bench_{kind}.json").is_file(),
                  **{k: v for c in calls for k, v in c.get("bench", {}).get(kind, {}).items()}}
           for kind in BENCH_KINDS}
  return {"final": final, "calls": calls, "runs": runs, "eval": calls[-1].get("eval", {}) if calls else {},
          "bench": bench, "pack": {}}


def _tar(path: pathlib.Path, members: Sequence[tuple[str, pathlib.Path]], exclude_png: bool = False):
  with tarfile.open(path, "w:gz", compresslevel=6) as archive:
    for arcname, source in members:
      if source.exists():
        archive.add(source, arcname,
                    filter=lambda info: None if exclude_png and info.name.endswith(".png") else info)
  return path


def pack(out_dir: pathlib.Path, pack_dir: pathlib.Path, names: Sequence[str], summary: dict, *,
         max_files: int = 8, part_bytes: int = 15 * MIB, max_total: int = 62 * MIB,
         summary_room: int = MIB, log: Log = print) -> list[pathlib.Path]:
  """Packs OUT_DIR into at most max_files files of at most part_bytes in pack_dir: the small files
  first, then the exports of the runs `names` in their order (dropped from the end when they cannot
  fit), split into parts. Writes summary.json (with summary["pack"] filled in) there and in
  OUT_DIR; returns the files, summary.json last. max_total (less summary_room, kept for
  summary.json) bounds them together."""
  for old in pack_dir.glob("*"):
    if old.is_file() and re.match(r"(summary\.json|bench_\w+\.json|\w+\.tar\.gz(\.part\d+)?)$", old.name):
      old.unlink()
  limit = f"{math.ceil(part_bytes / 10 ** 6)} MB"
  left_out, files = [], []
  for kind in BENCH_KINDS:
    source = out_dir / "bench" / f"bench_{kind}.json"
    if source.is_file():
      files.append(pack_dir / source.name)
      shutil.copyfile(source, files[-1])
  files.append(_tar(pack_dir / "logs.tar.gz",
                    [(f"logs/{p.name}", p) for p in sorted((out_dir / "logs").glob("*.log"))]))
  evals = [(p.name, p) for p in sorted(out_dir.glob("eval_*")) if p.is_dir()]
  if evals:
    path = _tar(pack_dir / "eval.tar.gz", evals)
    if path.stat().st_size > part_bytes:
      left_out.append(f"eval.tar.gz: the pictures (*.png), to stay under {limit}")
      _tar(path, evals, exclude_png=True)
    if path.stat().st_size > part_bytes:
      path.unlink()
      left_out.append(f"eval.tar.gz: all of it (over {limit})")
    else:
      files.append(path)
  # exports: export/ and metrics.jsonl of each run (tensorboard/ repeats metrics.jsonl; checkpoints/
  # are several times larger and stay behind)
  have = [n for n in names if (out_dir / "runs" / n / "export" / "config.json").is_file()]
  slots = max_files - len(files) - 1  # one for summary.json
  path = pack_dir / "exports.tar.gz"
  while have:
    _tar(path, [(f"runs/{n}/{part}", out_dir / "runs" / n / part)
                for n in have for part in ("export", "metrics.jsonl")])
    size, used = path.stat().st_size, sum(f.stat().st_size for f in files)
    if math.ceil(size / part_bytes) <= slots and used + size <= max_total - summary_room:
      break
    path.unlink()
    left_out.append(f"the export of {have.pop()} (no room: {max_files} files of {limit})")
  if have and path.stat().st_size > part_bytes:  # split: cat exports.tar.gz.part* | tar xz
    with open(path, "rb") as whole:
      for index in range(math.ceil(path.stat().st_size / part_bytes)):
        files.append(pack_dir / f"exports.tar.gz.part{index:02d}")
        files[-1].write_bytes(whole.read(part_bytes))
    path.unlink()
  elif have:
    files.append(path)
  summary["pack"] = {
      "files": {f.name: f.stat().st_size for f in files} | {"summary.json": "this file"},
      "exports": have, "left_out": left_out,
      "unpack": "tar xzf exports.tar.gz (or: cat exports.tar.gz.part* | tar xz), logs.tar.gz, eval.tar.gz"}
  text = json.dumps(summary, indent=1, default=str)
  (out_dir / "summary.json").write_text(text)
  files.append(pack_dir / "summary.json")
  files[-1].write_text(text)
  log(f"packed {len(files)} files into {pack_dir}: "
      + ", ".join(f"{f.name} {f.stat().st_size / MIB:.1f} MiB" for f in files)
      + (f"; left out: {'; '.join(left_out)}" if left_out else ""))
  return files
