#!/usr/bin/env bash
# The one prepared command of a GPU session: run THERE (a lent H100, minutes long, no internet), or
# on a CPU for CI. Within BUDGET_SECONDS of wall time, from a checkout with the folder that
# launch/gpu_prepare.sh filled (the carry, default runs/gpu_carry) beside it, it
#   1. installs the carried wheels the machine lacks (no network) and puts the repo on PYTHONPATH;
#   2. checks the device (jax.devices(), nvidia-smi) and says when it is only a CPU;
#   3. runs hrnnvae-bench train and latency, skipping those an earlier call finished;
#   4. trains every run of the list below side by side, each in OUT_DIR/runs/NAME (log in
#      OUT_DIR/logs/NAME.log), and sends each SIGINT at the training deadline: hrnnvae-train then
#      validates, writes export/ and exits 130 (a success here); SIGKILL only after a grace period;
#   5. evaluates them (hrnnvae-eval, Nottingham and JSB apart) in the time left;
#   6. packs everything into at most 8 files of at most 16 MB in OUT_DIR/pack (or $HRNNVAE_GPU_PACK):
#      summary.json, bench_train.json, bench_latency.json, logs.tar.gz, eval.tar.gz and
#      exports.tar.gz (split into exports.tar.gz.partNN when over 15 MiB: `cat` them together).
# A second call with the same OUT_DIR resumes: trainings continue from their latest checkpoint,
# finished ones (exit 0) and finished benchmarks are skipped, and the evaluation is redone.
#
#   launch/gpu_run.sh BUDGET_SECONDS OUT_DIR
# Environment: HRNNVAE_GPU_CARRY (the prepared folder; default runs/gpu_carry),
#   HRNNVAE_GPU_PACK (where the packed files go; e.g. $OUT on the device machine),
#   HRNNVAE_GPU_RUN_TINY=1 (CI: tiny configs, the same steps, minutes on a CPU),
#   HRNNVAE_GPU_RUNS=NAME,NAME (only these runs of the list), HRNNVAE_GPU_TRAIN_FLAGS (more
#   hrnnvae-train flags for every run), HRNNVAE_GPU_BENCH_PCT / HRNNVAE_GPU_EVAL_PCT (their
#   shares of the budget; bench 0 skips it), HRNNVAE_GPU_RUN_SETUP_ONLY=1 (stop after steps 1-2),
#   PYTHON (default python3).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO="$PWD"
T0=$(date +%s)

# The runs, NAME CONFIG[:VARIANTS] DATASET, most important first: exports are packed in this order
# and, if they cannot all fit, dropped from the end. All of them train at once on the one GPU.
GPU_RUNS="
nottingham              configs/nottingham.py              nottingham
jsb_chorales            configs/jsb_chorales.py            jsb_chorales
nottingham_lstm_lm      configs/nottingham.py:lstm_lm      nottingham
nottingham_continuous   configs/nottingham.py:continuous   nottingham
nottingham_no_position  configs/nottingham.py:no_position  nottingham
nottingham_no_finetune  configs/nottingham.py:no_finetune  nottingham
"
# The second baseline, configs/nottingham.py:musicvae_like, is left out so that six processes,
# not seven, share the GPU's time; add its line to train it too (the pack has room for it).
# CI's tiny mode runs the same steps on configs/tiny.py with one bar bucket and no fine-tune
# phase: each run compiles one small train step (under half a minute on a busy 2-core CPU,
# against minutes with the buckets and the fine-tune step). It never stops early, so the
# deadline's SIGINT is what stops it.
TINY_RUNS="
nottingham          configs/tiny.py          nottingham
jsb_chorales        configs/tiny.py          jsb_chorales
nottingham_lstm_lm  configs/tiny.py:lstm_lm  nottingham
"
TINY_TRAIN_FLAGS=(--config.train.bucket_by_bar=False --config.loss.aux_start_step=1000000
                  --config.train.max_epochs=100000 --config.train.eval_every_steps=20)

usage() { awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "$0"; }
case "${1:-}" in -h|--help) usage; exit 0 ;; esac
if [ $# -ne 2 ]; then usage >&2; exit 2; fi
case "$1" in ''|*[!0-9]*) echo "gpu_run: BUDGET_SECONDS must be a whole number of seconds" >&2; exit 2 ;; esac
BUDGET=$1
TINY="${HRNNVAE_GPU_RUN_TINY:-0}"
PYTHON="${PYTHON:-python3}"
CARRY="${HRNNVAE_GPU_CARRY:-runs/gpu_carry}"
if [ ! -d "$CARRY/caches" ]; then
  echo "gpu_run: no $CARRY/caches: run launch/gpu_prepare.sh here first and carry its folder" >&2
  exit 2
fi
CARRY="$(cd "$CARRY" && pwd)"
mkdir -p "$2"/{logs,runs,state,bench}
OUT_DIR="$(cd "$2" && pwd)"
PACK="${HRNNVAE_GPU_PACK:-$OUT_DIR/pack}"
mkdir -p "$PACK"
PACK="$(cd "$PACK" && pwd)"

# The budget, in seconds from the start. Training gets what the others leave: it is stopped
# (SIGINT) at STOP_AT, which keeps back the evaluation's share, the stop's grace period (the
# final validation and export) and the packing. A stop that comes early hands its time to the
# evaluation. The benchmarks take their share before the trainings start.
if [ "$TINY" = 1 ]; then
  PACK_S=15 GRACE_S=50 EVAL_MIN_S=40 EVAL_PCT=35 BENCH_PCT=15 MIN_TRAIN_S=20
  # Unoptimised XLA code: a third less compile time, and these models are tiny.
  export XLA_FLAGS="${XLA_FLAGS:+$XLA_FLAGS }--xla_backend_optimization_level=0 --xla_llvm_disable_expensive_passes=true"
  RUNS_TEXT="$TINY_RUNS"
else
  PACK_S=25 GRACE_S=90 EVAL_MIN_S=90 EVAL_PCT=15 BENCH_PCT=12 MIN_TRAIN_S=60
  RUNS_TEXT="$GPU_RUNS"
fi
BENCH_PCT="${HRNNVAE_GPU_BENCH_PCT:-$BENCH_PCT}"
EVAL_PCT="${HRNNVAE_GPU_EVAL_PCT:-$EVAL_PCT}"
EVAL_S=$(( BUDGET * EVAL_PCT / 100 ))
[ "$EVAL_S" -lt "$EVAL_MIN_S" ] && EVAL_S=$EVAL_MIN_S
BENCH_S=$(( BUDGET * BENCH_PCT / 100 ))
STOP_AT=$(( T0 + BUDGET - PACK_S - EVAL_S - GRACE_S ))
END_AT=$(( T0 + BUDGET ))

# This call's number and its record (section, name, key, value per line), read by the summary.
CALL=1
while [ -e "$OUT_DIR/state/call_$CALL.tsv" ]; do CALL=$(( CALL + 1 )); done
STATE="$OUT_DIR/state/call_$CALL.tsv"
: > "$STATE"
note() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >> "$STATE"; }
say() { echo "gpu_run [$(( $(date +%s) - T0 )) s]: $*"; }
now() { date +%s; }
lines() { if [ -f "$1" ]; then wc -l < "$1"; else echo 0; fi; }

# Which runs: the list, or the names HRNNVAE_GPU_RUNS picks from it.
NAMES=() ; declare -A CONFIG DATASET
while read -r name config dataset; do
  [ -z "$name" ] && continue
  if [ -n "${HRNNVAE_GPU_RUNS:-}" ] && [[ ",$HRNNVAE_GPU_RUNS," != *",$name,"* ]]; then continue; fi
  NAMES+=("$name"); CONFIG[$name]="$config"; DATASET[$name]="$dataset"
done <<<"$RUNS_TEXT"
note info - started "$(date -u +%FT%TZ)"
note info - budget_s "$BUDGET"
note info - tiny "$TINY"
note plan - bench_s "$BENCH_S"
note plan - train_until_s "$(( STOP_AT - T0 ))"
note plan - grace_s "$GRACE_S"
note plan - eval_s "$EVAL_S"
note plan - pack_s "$PACK_S"
say "call $CALL, budget ${BUDGET} s: benchmarks up to ${BENCH_S} s, trainings stopped at" \
    "$(( STOP_AT - T0 )) s (+${GRACE_S} s grace), evaluation ${EVAL_S} s, packing ${PACK_S} s;" \
    "runs: ${NAMES[*]}"

# A signal to this script (Ctrl-C, a TERM from above) stops the trainings the clean way (SIGINT,
# which `timeout` passes on; see train_tick), skips the evaluation and still packs what there is.
STOPPING=0
declare -A PIDS
on_signal() {
  STOPPING=1
  say "interrupted: stopping the trainings cleanly, then packing"
}
trap on_signal INT TERM

# Waits for every job of the associative array named $1 (name -> pid); calls $2 NAME RC as each
# ends, when it ends (so that its end time is right), and $3 NAME (if given) each second for each
# job still running. Polls: a trap may interrupt `wait`, and `wait -n -p` needs bash 5.1.
wait_jobs() {
  local -n jobs=$1
  local left=("${!jobs[@]}") name rc still
  while [ "${#left[@]}" -gt 0 ]; do
    still=()
    for name in "${left[@]}"; do
      if kill -0 "${jobs[$name]}" 2>/dev/null; then
        still+=("$name")
        if [ -n "${3:-}" ]; then "$3" "$name"; fi
        continue
      fi
      rc=0; wait "${jobs[$name]}" || rc=$?
      "$2" "$name" "$rc"
    done
    left=("${still[@]}")
    if [ "${#left[@]}" -gt 0 ]; then sleep 1; fi
  done
  return 0
}

# ---- 1. the missing wheels, from the carry alone, into OUT_DIR/site (first on PYTHONPATH) ----
SITE="$OUT_DIR/site"
export PYTHONPATH="$SITE:$REPO${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONUNBUFFERED=1 PYTHONWARNINGS="${PYTHONWARNINGS:-ignore::DeprecationWarning}"
if [ -f "$CARRY/wheels/modules.txt" ]; then
  while read -r wheel module kind; do
    [ -z "$wheel" ] && continue
    if "$PYTHON" -c "import $module" 2>/dev/null; then continue; fi
    say "installing $wheel ($module is missing; $kind)"
    mkdir -p "$SITE"
    "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target "$SITE" "$CARRY/wheels/$wheel" \
      || "$PYTHON" -m zipfile -e "$CARRY/wheels/$wheel" "$SITE"  # a wheel is a zip; no pip there?
    note wheel "$wheel" installed "$module"
  done < "$CARRY/wheels/modules.txt"
fi
if ! "$PYTHON" -c "import ml_collections, tensorboardX, hrnnvae.train.main" >"$OUT_DIR/logs/imports.log" 2>&1; then
  say "cannot import the training code:"; cat "$OUT_DIR/logs/imports.log" >&2
  say "(carry the wheels: launch/gpu_prepare.sh here, without --no-wheels)"
  exit 1
fi

# ---- 2. the device ----
{
  echo "call $CALL, $(date -u)"
  if command -v nvidia-smi >/dev/null; then nvidia-smi || true; else echo "no nvidia-smi"; fi
} >> "$OUT_DIR/logs/device.log" 2>&1
BACKEND="$(timeout 180 "$PYTHON" -c 'import jax; print(jax.default_backend(), jax.devices())' \
           2>>"$OUT_DIR/logs/device.log" | tail -1 || true)"
echo "jax: $BACKEND" >> "$OUT_DIR/logs/device.log"
note device - jax "$BACKEND"
case "$BACKEND" in
  gpu*|cuda*) say "device: $BACKEND" ;;
  "") say "jax found no device at all (logs/device.log)"; exit 1 ;;
  *) say "no GPU: running on ${BACKEND} (fine for CI's tiny mode; slow for the real configs)" ;;
esac

if [ "${HRNNVAE_GPU_RUN_SETUP_ONLY:-0}" = 1 ]; then say "setup only: done"; exit 0; fi

# ---- 3. benchmarks, alone on the device so that the timings mean something ----
bench() {  # bench KIND SECONDS ARGS...: skipped if an earlier call wrote its JSON
  local kind=$1 seconds=$2; shift 2
  local json="$OUT_DIR/bench/bench_$kind.json" start rc
  if [ -f "$json" ]; then say "bench $kind: done in an earlier call"; note bench "$kind" status earlier; return; fi
  local tried; tried="$(cat "$OUT_DIR/bench/bench_$kind.timed_out_s" 2>/dev/null || echo 0)"
  if [ "$seconds" -lt 10 ] || [ "$STOPPING" = 1 ]; then
    say "bench $kind: no time for it"; note bench "$kind" status skipped; return
  fi
  if [ "$seconds" -le "$tried" ]; then  # it would only time out again
    say "bench $kind: skipped (it timed out after ${tried} s before; ${seconds} s now)"
    note bench "$kind" status skipped; return
  fi
  say "bench $kind (up to ${seconds} s)"
  start=$(now); rc=0
  echo "=== call $CALL ===" >> "$OUT_DIR/logs/bench_$kind.log"
  timeout -k 10 "$seconds" "$PYTHON" -m hrnnvae.bench "$kind" --json="$json.partial" "$@" \
    >> "$OUT_DIR/logs/bench_$kind.log" 2>&1 || rc=$?
  if [ "$rc" = 0 ] && [ -f "$json.partial" ]; then mv "$json.partial" "$json"; fi
  note bench "$kind" rc "$rc"; note bench "$kind" wall_s "$(( $(now) - start ))"
  case "$rc" in 0) note bench "$kind" status done ;;
    124|137) note bench "$kind" status timed_out; echo "$seconds" > "$OUT_DIR/bench/bench_$kind.timed_out_s" ;;
    *) note bench "$kind" status failed ;; esac
  say "bench $kind: exit $rc after $(( $(now) - start )) s"
}
# Never into the trainings' minimum.
room=$(( STOP_AT - MIN_TRAIN_S - $(now) ))
[ "$BENCH_S" -gt "$room" ] && BENCH_S=$(( room > 0 ? room : 0 ))
BENCH_START=$(now)
if [ "$BENCH_PCT" -gt 0 ]; then
  # The train bench gets 3/5 of the share; the latency bench whatever of it is left after that.
  if [ "$TINY" = 1 ]; then
    # One variant (the config as given) and no fine-tune terms: their compile took 25 s of CPU
    # for nothing CI needs.
    bench train $(( BENCH_S * 3 / 5 )) --config=configs/tiny.py \
      --config.data.cache_dir="$CARRY/caches/nottingham" --config.loss.emotion_weight=0 \
      --config.loss.adversarial_weight=0 --variants=' ' --steps=2 --repeats=1
    bench latency $(( BENCH_START + BENCH_S - $(now) )) --config=configs/tiny.py --bars=1 \
      --batch_sizes=1 --calls=3
  else
    # Both phases of the config as given. The tool's default also times a second variant: four
    # compiles, worth it only when the share has room; else --variants=' ' (absl strips it to
    # the one variant '', the config as given): two compiles.
    seconds=$(( BENCH_S * 3 / 5 ))
    variants=(--variants=' '); [ "$seconds" -ge 180 ] && variants=()
    bench train "$seconds" --config=configs/nottingham.py \
      --config.data.cache_dir="$CARRY/caches/nottingham" "${variants[@]}" --steps=10 --repeats=3
    bench latency $(( BENCH_START + BENCH_S - $(now) )) --config=configs/nottingham.py --bars=32 \
      --batch_sizes=1,64,1024 --calls=30
  fi
fi

# ---- 4. the trainings, side by side, each stopped by SIGINT at STOP_AT ----
declare -A START LOGLINE MLINES SIGNALED KILLED
FAILED=""  # what exited with an error (not a deadline): the exit status says so at the end
running=()
for name in "${NAMES[@]}"; do
  if [ -e "$OUT_DIR/state/done_$name" ]; then
    say "train $name: finished in an earlier call ($(cat "$OUT_DIR/state/done_$name"))"
    note run "$name" status earlier; continue
  fi
  running+=("$name")
done
# Each process takes an equal share of the GPU's memory, not JAX's default 75% (one would starve
# the rest); on a CPU the variable does nothing.
FRACTION="$("$PYTHON" -c "print(f'{min(0.75, 0.9 / max(1, ${#running[@]})):.2f}')")"
duration=$(( STOP_AT - $(now) ))
if [ "$STOPPING" = 1 ]; then running=(); fi
if [ "${#running[@]}" -gt 0 ] && [ "$duration" -lt "$MIN_TRAIN_S" ]; then
  say "only ${duration} s left for training (under ${MIN_TRAIN_S} s): no training this call"
  for name in "${running[@]}"; do note run "$name" status no_time; done
  running=()
fi
extra_flags=()
[ "$TINY" = 1 ] && extra_flags+=("${TINY_TRAIN_FLAGS[@]}")
# shellcheck disable=SC2206
[ -n "${HRNNVAE_GPU_TRAIN_FLAGS:-}" ] && extra_flags+=(${HRNNVAE_GPU_TRAIN_FLAGS})
for name in "${running[@]}"; do
  log="$OUT_DIR/logs/$name.log"
  echo "=== call $CALL, $(date -u), ${duration} s until SIGINT ===" >> "$log"
  LOGLINE[$name]=$(( $(lines "$log") + 1 ))
  MLINES[$name]=$(lines "$OUT_DIR/runs/$name/metrics.jsonl")
  # Under `timeout`, not a plain `&`: a non-interactive shell starts background jobs with SIGINT
  # ignored, and Python then never raises KeyboardInterrupt; timeout gives its child SIGINT back,
  # passes on the SIGINT we send it, and leads a process group that SIGKILL can end whole. Its
  # own deadline is only a backstop. --preserve-status: the trainer's exit status (130 after
  # SIGINT) comes out.
  XLA_PYTHON_CLIENT_MEM_FRACTION="$FRACTION" timeout --preserve-status -s INT \
    "$(( duration + GRACE_S + 30 ))" "$PYTHON" -m hrnnvae.train.main --config="${CONFIG[$name]}" \
    --config.data.cache_dir="$CARRY/caches/${DATASET[$name]}" --workdir="$OUT_DIR/runs/$name" \
    "${extra_flags[@]}" >> "$log" 2>&1 &
  PIDS[$name]=$!; START[$name]=$(now)
done
[ "${#running[@]}" -gt 0 ] && say "training ${running[*]} for ${duration} s (memory fraction ${FRACTION} each)"
train_tick() {  # NAME: the deadline, each second, for a run still going
  local name=$1 t
  t=$(now)
  if [ -z "${SIGNALED[$name]:-}" ] && { [ "$t" -ge "$STOP_AT" ] || [ "$STOPPING" = 1 ]; }; then
    # SIGINT at the deadline, but only to a run that has trained in this call (metrics.jsonl grew):
    # one still starting up would die of it with nothing new saved. Such a run gets up to half
    # the grace period to take its first steps; the interrupt then validates and exports it.
    if [ "$(lines "$OUT_DIR/runs/$name/metrics.jsonl")" -gt "${MLINES[$name]}" ] \
       || [ "$t" -ge $(( STOP_AT + GRACE_S / 2 )) ] || [ "$STOPPING" = 1 ]; then
      kill -INT "${PIDS[$name]}" 2>/dev/null || true
      SIGNALED[$name]=$t
      note run "$name" sigint_at_s "$(( t - T0 ))"
    fi
  elif [ -z "${KILLED[$name]:-}" ] && { [ "$t" -ge $(( STOP_AT + GRACE_S )) ] || \
       { [ "$STOPPING" = 1 ] && [ "$t" -ge $(( ${SIGNALED[$name]:-$t} + GRACE_S )) ]; }; }; then
    say "train $name: still running ${GRACE_S} s after the deadline: SIGKILL"
    # timeout leads its own process group: the trainer goes with it
    kill -KILL -- "-${PIDS[$name]}" 2>/dev/null || kill -KILL "${PIDS[$name]}" 2>/dev/null || true
    KILLED[$name]=$t
  fi
}
train_ended() {  # NAME RC
  local name=$1 rc=$2 status
  note run "$name" rc "$rc"; note run "$name" wall_s "$(( $(now) - ${START[$name]} ))"
  # Exit 0: it stopped by itself (early stopping, max_steps). After the deadline's SIGINT, 130 is
  # the clean stop (validated, exported), unless the run was still starting up: then it died of
  # the interrupt with nothing saved. Any other exit before the deadline is a failure.
  if [ "$rc" = 0 ]; then
    status=done; echo "finished in call $CALL" > "$OUT_DIR/state/done_$name"
  elif [ -z "${SIGNALED[$name]:-}" ]; then
    status=failed; FAILED="$FAILED train:$name"
  elif [ "$rc" = 130 ] && tail -n "+${LOGLINE[$name]}" "$OUT_DIR/logs/$name.log" | grep "stopped at step" >/dev/null; then
    status=interrupted
  elif [ "$rc" = 137 ]; then status=killed
  else status=interrupted_at_start; fi
  note run "$name" status "$status"
  say "train $name: exit $rc ($status) after $(( $(now) - ${START[$name]} )) s" \
      "$(tail -n "+${LOGLINE[$name]}" "$OUT_DIR/logs/$name.log" | grep -a -o 'stopped at step [0-9]* ([a-z_]*)' | tail -1 || true)"
}
wait_jobs PIDS train_ended train_tick
unset PIDS; declare -A PIDS

# ---- summary and pack: once now (so a late failure still leaves the models), once at the end ----
summarize() {  # summarize FINAL(0|1)
  RUN_NAMES="${NAMES[*]}" "$PYTHON" - "$OUT_DIR" "$PACK" "$1" <<'EOF'
import json, math, os, pathlib, re, sys, tarfile

out, pack, final = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), sys.argv[3] == "1"
MIB = 2 ** 20
PART = 15 * MIB          # each returned file stays under 16 MB
MAX_FILES, MAX_TOTAL = 8, 62 * MIB  # of the 8 files and 64 MiB that come back
names = os.environ["RUN_NAMES"].split()

calls = []
for path in sorted((out / "state").glob("call_*.tsv"), key=lambda p: int(p.stem[5:])):
  call = {"call": int(path.stem[5:])}  # info, plan, device, wheel, bench, run, eval
  for line in path.read_text().splitlines():
    section, name, key, value = (line.split("\t") + ["", "", "", ""])[:4]
    value = int(value) if re.fullmatch(r"-?\d+", value) else value
    target = call.setdefault(section, {})
    target = target.setdefault(name, {}) if name != "-" else target
    target[key] = value
  calls.append(call)

def last_step(workdir):
  step = best = None
  metrics = workdir / "metrics.jsonl"
  if metrics.is_file():
    for line in metrics.read_text().splitlines():
      try:
        row = json.loads(line)
      except ValueError:
        continue
      step = max(step or 0, row.get("step", 0))
      best = row.get("valid/best_loss", best)
  return step, best

runs = {}
for name in names:
  workdir = out / "runs" / name
  step, best = last_step(workdir)
  export = workdir / "export" / "config.json"
  log = out / "logs" / f"{name}.log"
  stops = re.findall(r"stopped at step (\d+) \((\w+)\)", log.read_text(errors="replace")) if log.is_file() else []
  history = [{"call": c["call"], **c.get("run", {}).get(name, {})} for c in calls if name in c.get("run", {})]
  runs[name] = {"step": step, "best_valid_loss": best if best is None or math.isfinite(best) else None,
                "export_step": json.loads(export.read_text()).get("step") if export.is_file() else None,
                "last_stop": {"step": int(stops[-1][0]), "reason": stops[-1][1]} if stops else None,
                "status": history[-1].get("status") if history else None, "calls": history}
(out / "state" / f"steps_call_{calls[-1]['call']}.json").write_text(
    json.dumps({name: run["step"] for name, run in runs.items()}))

summary = {"final": final, "calls": calls, "runs": runs,
           "eval": calls[-1].get("eval", {}), "bench": {}, "pack": {}}
for kind in ("train", "latency"):
  path = out / "bench" / f"bench_{kind}.json"
  summary["bench"][kind] = {"written": path.is_file(),
                            **{k: v for c in calls for k, v in c.get("bench", {}).get(kind, {}).items()}}

# The pack: small files first, then the exports of the runs in the list's order, split in parts.
for old in pack.glob("*"):
  if old.is_file() and re.match(r"(summary\.json|bench_\w+\.json|\w+\.tar\.gz(\.part\d+)?)$", old.name):
    old.unlink()
left_out = []

def tar(name, members, exclude_png=False):
  path = pack / name
  with tarfile.open(path, "w:gz", compresslevel=6) as archive:
    for arcname, source in members:
      if source.exists():
        archive.add(source, arcname, filter=lambda info: None if exclude_png and info.name.endswith(".png") else info)
  return path

files = []
for kind in ("train", "latency"):
  source = out / "bench" / f"bench_{kind}.json"
  if source.is_file():
    (pack / source.name).write_bytes(source.read_bytes())
    files.append(pack / source.name)
logs = [(f"logs/{p.name}", p) for p in sorted((out / "logs").glob("*.log"))]
files.append(tar("logs.tar.gz", logs))
evals = [(p.name, p) for p in sorted(out.glob("eval_*")) if p.is_dir()]
if evals:
  files.append(tar("eval.tar.gz", evals))
  if files[-1].stat().st_size > PART:
    left_out.append("eval.tar.gz: the pictures (*.png), to stay under 16 MB")
    files[-1] = tar("eval.tar.gz", evals, exclude_png=True)
    if files[-1].stat().st_size > PART:
      files[-1].unlink(); files.pop(); left_out.append("eval.tar.gz: all of it (over 16 MB)")
# exports: export/ and metrics.jsonl of each run (tensorboard/ repeats metrics.jsonl; checkpoints/
# are several times larger and stay behind)
have = [n for n in names if (out / "runs" / n / "export" / "config.json").is_file()]
slots = MAX_FILES - len(files) - 1  # one for summary.json
while have:
  members = []
  for n in have:
    members += [(f"runs/{n}/export", out / "runs" / n / "export"),
                (f"runs/{n}/metrics.jsonl", out / "runs" / n / "metrics.jsonl")]
  path = tar("exports.tar.gz", members)
  size, used = path.stat().st_size, sum(f.stat().st_size for f in files)
  if math.ceil(size / PART) <= slots and used + size <= MAX_TOTAL - MIB:
    break
  path.unlink()
  left_out.append(f"the export of {have.pop()} (no room: 8 files of 16 MB)")
if have:
  size = path.stat().st_size
  if size > PART:  # split: cat exports.tar.gz.part* | tar xz
    with open(path, "rb") as whole:
      for index in range(math.ceil(size / PART)):
        part = pack / f"exports.tar.gz.part{index:02d}"
        part.write_bytes(whole.read(PART))
        files.append(part)
    path.unlink()
  else:
    files.append(path)
summary["pack"] = {
    "files": {f.name: f.stat().st_size for f in files} | {"summary.json": "this file"},
    "exports": have, "left_out": left_out,
    "unpack": "tar xzf exports.tar.gz (or: cat exports.tar.gz.part* | tar xz), logs.tar.gz, eval.tar.gz"}
text = json.dumps(summary, indent=1, default=str)
(out / "summary.json").write_text(text)
(pack / "summary.json").write_text(text)
print(f"gpu_run: packed {len(files) + 1} files into {pack}: "
      + ", ".join(f"{f.name} {f.stat().st_size / MIB:.1f} MiB" for f in files + [pack / 'summary.json'])
      + (f"; left out: {'; '.join(left_out)}" if left_out else ""))
EOF
}
summarize 0 || say "the interim pack failed (see above); going on"

# ---- 5. evaluation, Nottingham and JSB apart, sized by the time left ----
# On a GPU the two run side by side (much of their time is CPU-side scoring, and the machine has
# cores to spare); on a CPU one after the other, so that the first report is whole sooner.
eval_ended() {  # DATASET RC
  local dataset=$1 rc=$2 status
  note eval "$dataset" rc "$rc"; note eval "$dataset" wall_s "$(( $(now) - ${ESTART[$dataset]} ))"
  case "$rc" in 0) status=done ;; 124|137) status=timed_out ;;
    *) status=failed; FAILED="$FAILED eval:$dataset" ;; esac
  note eval "$dataset" status "$status"
  say "eval $dataset: exit $rc ($status) after $(( $(now) - ${ESTART[$dataset]} )) s"
}
declare -A EPIDS ESTART
if [ "$STOPPING" = 0 ]; then
  eval_s=$(( END_AT - PACK_S - $(now) ))
  if [ "$TINY" = 1 ]; then samples=2
  elif [ "$eval_s" -ge 300 ]; then samples=64
  elif [ "$eval_s" -ge 180 ]; then samples=32
  elif [ "$eval_s" -ge 100 ]; then samples=16
  else samples=8; fi
  for dataset in nottingham jsb_chorales; do
    workdirs=()
    for name in "${NAMES[@]}"; do
      if [ "${DATASET[$name]}" = "$dataset" ] && [ -f "$OUT_DIR/runs/$name/export/config.json" ]; then
        workdirs+=("$OUT_DIR/runs/$name")
        # A run stopped by the deadline's SIGINT fits no latent prior itself (hrnnvae/latent_prior.py)
        if [[ "${CONFIG[$name]}" != *lstm_lm* ]] && [ ! -f "$OUT_DIR/runs/$name/export/latent_prior.npz" ] \
           && [ "$STOPPING" = 0 ]; then
          timeout -k 5 120 "$PYTHON" launch/fit_latent_prior.py --model="$OUT_DIR/runs/$name" \
            --cache="$CARRY/caches/$dataset" >> "$OUT_DIR/logs/eval_$dataset.log" 2>&1 \
            || say "eval $dataset: no latent prior for $name (see logs/eval_$dataset.log)"
        fi
      fi
    done
    if [ "${#workdirs[@]}" = 0 ]; then note eval "$dataset" status no_models; continue; fi
    eval_s=$(( END_AT - PACK_S - $(now) ))
    if [ "$eval_s" -lt 15 ] || [ "$STOPPING" = 1 ]; then
      note eval "$dataset" status no_time; say "eval $dataset: no time left"; continue
    fi
    list="$(IFS=,; echo "${workdirs[*]}")"
    say "eval $dataset: ${#workdirs[@]} model(s), ${samples} melodies per emotion, up to ${eval_s} s"
    echo "=== call $CALL ===" >> "$OUT_DIR/logs/eval_$dataset.log"
    XLA_PYTHON_CLIENT_MEM_FRACTION=0.40 timeout -k 10 "$eval_s" "$PYTHON" -m hrnnvae.eval_main \
      --workdirs="$list" --dataset_cache="$CARRY/caches/$dataset" --num_samples="$samples" \
      --seeds=0 --out="$OUT_DIR/eval_$dataset" --overwrite >> "$OUT_DIR/logs/eval_$dataset.log" 2>&1 &
    EPIDS[$dataset]=$!; ESTART[$dataset]=$(now)
    note eval "$dataset" num_samples "$samples"; note eval "$dataset" models "$list"
    if [[ "$BACKEND" != gpu* && "$BACKEND" != cuda* ]]; then
      wait_jobs EPIDS eval_ended; EPIDS=()
    fi
  done
  wait_jobs EPIDS eval_ended
fi

# ---- 6. the final pack ----
note info - wall_s "$(( $(now) - T0 ))"
summarize 1
say "done in $(( $(now) - T0 )) s of ${BUDGET}; OUT_DIR=$OUT_DIR"
if [ "$STOPPING" = 1 ]; then exit 130; fi
# Everything is packed either way; a training or evaluation that failed (an error, not a
# deadline) makes the exit status 1, and summary.json and its log say why.
if [ -n "$FAILED" ]; then say "failed:$FAILED (see logs.tar.gz)"; exit 1; fi
exit 0
