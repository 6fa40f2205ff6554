#!/usr/bin/env bash
# Fidelity of the Rust runtime to the authors' pipeline (issue #14, "Fidelity to the reference,
# first"): trains the paper's checkerboard model with the paper CNN in the Rust runtime
# (`genads train --preset paper`) and in the independent PyTorch re-implementation
# bench/holographic_reference.py, for the same steps, cosine schedule (over SCHEDULE_STEPS,
# default the paper's 78,100, so a short run keeps the lr near 3e-4), lr, batch, EMA and seeds,
# and prints a table of
#   * the training loss, mean over windows of WINDOW steps (mean ± sd over the seeds);
#   * BV, JS_cell, WED_norm at the steps EVAL_AT, each from N samples of the EMA weights
#     (before step 1000 the EMA weights are the raw ones on both sides) integrated with
#     RK4-ODE_STEPS, scored by the SAME Rust metric code for both implementations
#     (examples/metric_calibration.rs, against the first 10,000 points of the seed-1 data set),
#     plus the median nearest-neighbour distance of the samples relative to that of N true points
#     (computed here, with one code path for both).
# The Rust and PyTorch RNGs differ, so the comparison is statistical: use ≥ 3 seeds and compare
# the difference between the implementations with the seed-to-seed spread (the `t` column: Welch's
# t of the difference of the means; with 3 seeds a side |t| ≳ 3 is worth investigating, with 2 it
# is only indicative).
#
# How the Rust run is sampled at intermediate steps without changing its schedule: it trains with
# `--steps SCHEDULE_STEPS --checkpoint-every C` (C = gcd of EVAL_AT), and when the checkpoint of an
# evaluation step appears the script pauses the trainer (SIGSTOP), runs
# `genads sample RUN --n N --steps ODE_STEPS --out FILE.csv` (which reads the latest checkpoint,
# i.e. that step; the script checks the step it reports), resumes it (SIGCONT), and kills it after
# the last evaluation step. The loss comes from RUN/metrics.jsonl: the trainer writes the mean loss
# of the steps since the previous line at every evaluation, so it runs with `--eval-every WINDOW`
# and a negligible in-training evaluation (16 samples, one Euler step; not used).
#
# Usage: bench/fidelity.sh            (all settings by environment variable)
# Env:   MODEL=ads_linear (paper #3; ads_kg_linear = #2, passes --backbone to the PyTorch side)
#        NORMALISATION=reference (the authors' DC-mode envelope quirk, PAPER.md §4.1 item 5; or clean)
#        STEPS=540  EVAL_AT=270,540  SEEDS="1 2 3"  N=500  ODE_STEPS=100  WINDOW=100
#        SCHEDULE_STEPS=78100  LR=3e-4  THREADS=1 (per process)  BATCHES=epoch (PyTorch side:
#        shuffled drop-last epochs like the authors' DataLoader; `replacement` like the Rust trainer)
#        PARALLEL=1 (the Rust and PyTorch runs of a seed side by side, one core each; 0: one after
#        the other)  EMA_BEFORE_START=copy (PyTorch side: the EMA follows the raw weights before its
#        start step, as in the Rust runtime; `init`: keeps the initial weights, as the authors'
#        trainer.py does)  OUT=target/fidelity  PYTHON=bench/.venv/bin/python  SKIP_BUILD=0
#        SCORE_ONLY=0 (1: only score the CSVs already in OUT and print the table)
# Cost, measured with one thread per process on the 2-core machine while it was also busy with
# other work (an idle machine is faster): a paper-CNN training step (batch 64) 0.8 s in PyTorch,
# 1.9 s in Rust; sampling ≈ 3 ms (PyTorch) and ≈ 7 ms (Rust) per sample per network evaluation, so
# one evaluation of 500 samples with RK4-100 (400 evaluations) ≈ 11 min (PyTorch), ≈ 23 min
# (Rust). The defaults (540 steps, evaluations at 270 and 540) therefore take ≈ 65 min per seed
# with PARALLEL=1 (the Rust side is the longer one), ≈ 3.3 h for three seeds; ODE_STEPS=25 cuts
# the evaluations 4× (≈ 35 min per seed). Disk: the Rust run keeps its last 3 checkpoints, 162 MB
# each, in OUT/rust/seed*/run/checkpoints.
# The PyTorch venv: python3 -m venv bench/.venv && bench/.venv/bin/pip install torch numpy
set -euo pipefail
cd "$(dirname "$0")/.."

MODEL=${MODEL:-ads_linear}
NORMALISATION=${NORMALISATION:-reference}
STEPS=${STEPS:-540}
EVAL_AT=${EVAL_AT:-270,540}
SEEDS=${SEEDS:-1 2 3}
N=${N:-500}
ODE_STEPS=${ODE_STEPS:-100}
WINDOW=${WINDOW:-100}
SCHEDULE_STEPS=${SCHEDULE_STEPS:-78100}
LR=${LR:-3e-4}
THREADS=${THREADS:-1}
BATCHES=${BATCHES:-epoch}
EMA_BEFORE_START=${EMA_BEFORE_START:-copy}
PARALLEL=${PARALLEL:-1}
OUT=${OUT:-target/fidelity}
PYTHON=${PYTHON:-bench/.venv/bin/python}
SKIP_BUILD=${SKIP_BUILD:-0}
SCORE_ONLY=${SCORE_ONLY:-0}
GENADS=target/release/genads
METRICS=target/release/examples/metric_calibration

case $MODEL in
  ads_linear) PY_MODEL=() ;;
  ads_kg_linear) PY_MODEL=(--backbone) ;;
  *) echo "MODEL must be ads_linear or ads_kg_linear (the linear-path paper models), got $MODEL" >&2; exit 2 ;;
esac
case $NORMALISATION in clean | reference) ;; *) echo "NORMALISATION must be clean or reference" >&2; exit 2 ;; esac
[ -x "$PYTHON" ] || { echo "no $PYTHON: python3 -m venv bench/.venv && bench/.venv/bin/pip install torch numpy" >&2; exit 2; }

# Evaluation steps (sorted, ≤ STEPS) and the checkpoint interval C = gcd(EVAL_AT).
read -r -a EVALS <<<"$("$PYTHON" -c 'import sys; s = sorted({int(v) for v in sys.argv[1].split(",") if v.strip()}); print(" ".join(str(v) for v in s if 1 <= v <= int(sys.argv[2])))' "$EVAL_AT" "$STEPS")"
[ ${#EVALS[@]} -gt 0 ] || { echo "EVAL_AT has no step in 1..STEPS" >&2; exit 2; }
CKPT=$("$PYTHON" -c 'import math, sys; print(math.gcd(*[int(v) for v in sys.argv[1:]]))' "${EVALS[@]}")
EVAL_CSV=$(IFS=,; echo "${EVALS[*]}")

mkdir -p "$OUT"

if [ "$SKIP_BUILD" != 1 ]; then
  echo "# building genads and examples/metric_calibration (release)"
  cargo build --release --bin genads --example metric_calibration
fi
[ -x "$GENADS" ] && [ -x "$METRICS" ] || { echo "missing $GENADS or $METRICS (run without SKIP_BUILD=1)" >&2; exit 2; }

# The Rust model: models/MODEL.genads with the requested envelope normalisation.
MODEL_FILE="$OUT/$MODEL.$NORMALISATION.genads"
sed -E "s/^([[:space:]]*encoding[[:space:]]+propagator([[:space:]]+lift[[:space:]]+[0-9.eE+-]+)?)([[:space:]]+normalisation[[:space:]]+[a-z]+)?/\1 normalisation $NORMALISATION/" \
  "models/$MODEL.genads" >"$MODEL_FILE"
grep -q "normalisation $NORMALISATION" "$MODEL_FILE" || { echo "could not set the normalisation in $MODEL_FILE" >&2; exit 2; }
"$GENADS" check "$MODEL_FILE" >/dev/null

# Background processes of this script (the trainers); on exit, those still running and still our
# children are resumed and ended.
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do
    if [ "$(ps -o ppid= -p "$p" 2>/dev/null | tr -d ' ')" = "$$" ]; then
      kill -CONT "$p" 2>/dev/null || true
      kill "$p" 2>/dev/null || true
    fi
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_python() { # seed; sets PY_PID
  local seed=$1 dir="$OUT/pytorch/seed$1"
  rm -rf "$dir" # this script's own output of an earlier run
  mkdir -p "$dir"
  OMP_NUM_THREADS=$THREADS MKL_NUM_THREADS=$THREADS "$PYTHON" bench/holographic_reference.py "${PY_MODEL[@]}" \
    --steps "$STEPS" --eval-at "$EVAL_CSV" --seed "$seed" --normalisation "$NORMALISATION" \
    --schedule-steps "$SCHEDULE_STEPS" --lr "$LR" --n "$N" --ode-steps "$ODE_STEPS" \
    --threads "$THREADS" --batches "$BATCHES" --ema-before-start "$EMA_BEFORE_START" --out "$dir" >"$dir/stdout.log" 2>"$dir/stderr.log" &
  PY_PID=$!
  PIDS+=("$PY_PID")
}

run_rust() { # seed
  local seed=$1 dir="$OUT/rust/seed$1"
  rm -rf "$dir" # this script's own output of an earlier run (genads train refuses an existing run)
  mkdir -p "$dir"
  RAYON_NUM_THREADS=$THREADS "$GENADS" train "$MODEL_FILE" --preset paper --steps "$SCHEDULE_STEPS" \
    --seed "$seed" --lr "$LR" --out "$dir/run" --eval-every "$WINDOW" --eval-samples 16 \
    --eval-solver euler --eval-steps 1 --final-samples 16 --checkpoint-every "$CKPT" \
    >"$dir/train.log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  for s in "${EVALS[@]}"; do
    local ck="$dir/run/checkpoints/step-$(printf %08d "$s")"
    while [ ! -d "$ck" ]; do
      if ! kill -0 "$pid" 2>/dev/null; then
        echo "rust seed $seed: the trainer stopped before step $s (see $dir/train.log)" >&2
        return 1
      fi
      sleep 0.2
    done
    kill -STOP "$pid" 2>/dev/null || true # a run that ended by itself (STEPS = SCHEDULE_STEPS) is gone
    local line
    line=$(RAYON_NUM_THREADS=$THREADS "$GENADS" sample "$dir/run" --n "$N" --steps "$ODE_STEPS" --solver rk4 \
      --seed $((1000003 * seed + s)) --out "$dir/samples_step$s.csv" 2>>"$dir/sample.log")
    echo "$line" >>"$dir/sample.log"
    kill -CONT "$pid" 2>/dev/null || true
    case $line in
      *" from step $s "*) ;;
      *) echo "rust seed $seed: expected samples from step $s, got: $line" >&2; return 1 ;;
    esac
  done
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

if [ "$SCORE_ONLY" != 1 ]; then
  echo "# $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); model $MODEL ($NORMALISATION), steps $STEPS, eval at $EVAL_CSV (N $N, RK4-$ODE_STEPS), seeds $SEEDS, schedule $SCHEDULE_STEPS, lr $LR, threads $THREADS"
  for seed in $SEEDS; do
    start=$(date +%s)
    rc=0
    start_python "$seed"
    if [ "$PARALLEL" != 1 ]; then
      wait "$PY_PID" || { echo "pytorch seed $seed failed (see $OUT/pytorch/seed$seed/stderr.log)" >&2; rc=1; }
    fi
    [ "$rc" = 0 ] && { run_rust "$seed" || rc=$?; }
    if [ "$PARALLEL" = 1 ]; then
      if [ "$rc" = 0 ]; then
        wait "$PY_PID" || { echo "pytorch seed $seed failed (see $OUT/pytorch/seed$seed/stderr.log)" >&2; rc=1; }
      fi
    fi
    [ "$rc" = 0 ] || exit 1
    echo "# seed $seed done in $(( $(date +%s) - start )) s"
  done
fi

# Score every CSV with the project's metric code. One call per file (≈ 7 s each, most of it the
# example's fixed calibration table): the example prints a file's BV/JS_cell/WED_norm line and then
# its per-cell table, which fails (exit 1) when a valid cell holds < 2 samples; the metrics line
# is printed by then, and the next files are still scored.
mapfile -t FILES < <(ls "$OUT"/rust/seed*/samples_step*.csv "$OUT"/pytorch/seed*/samples_step*.csv 2>/dev/null)
[ ${#FILES[@]} -gt 0 ] || { echo "no sample CSVs in $OUT" >&2; exit 1; }
: >"$OUT/scores.txt"
for f in "${FILES[@]}"; do
  scored=$("$METRICS" "$f" 2>&1 || true)
  grep -F "$f: " <<<"$scored" >>"$OUT/scores.txt" || echo "note: $f was not scored: $(tail -n 3 <<<"$scored")" >&2
done

"$PYTHON" - "$OUT" "$WINDOW" "$STEPS" <<'PY'
import glob, json, math, os, re, sys
import numpy as np

out, window, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
sys.path.insert(0, "bench")
from holographic_reference import checkerboard  # the true distribution, for the NN statistic

# Metrics from examples/metric_calibration: "FILE: N points, BV x, JS_cell y, WED_norm z".
scores = {}
pat = re.compile(r"^(.*\.csv): (\d+) points, BV ([0-9.eE+-]+|NaN), JS_cell ([0-9.eE+-]+|NaN), WED_norm ([0-9.eE+-]+|NaN)")
for line in open(os.path.join(out, "scores.txt")):
    m = pat.match(line.strip())
    if m:
        scores[os.path.normpath(m.group(1))] = dict(n=int(m.group(2)), bv=float(m.group(3)),
                                                    js_cell=float(m.group(4)), wed_norm=float(m.group(5)))

def nn_median(p):
    d = np.sqrt(((p[:, None, :] - p[None, :, :]) ** 2).sum(-1))
    np.fill_diagonal(d, np.inf)
    return float(np.median(d.min(1)))

def runs(impl):
    res = {}
    for d in sorted(glob.glob(os.path.join(out, impl, "seed*"))):
        seed = int(d.rsplit("seed", 1)[1])
        # Loss per step window [a, b]: Rust from metrics.jsonl (mean since the previous line),
        # PyTorch from its per-step log.
        losses = {}
        if impl == "rust":
            path = os.path.join(d, "run", "metrics.jsonl")
            prev = 0
            for line in open(path) if os.path.exists(path) else []:
                r = json.loads(line)
                if r.get("loss") is not None and r["step"] <= steps:
                    losses[(prev + 1, r["step"])] = r["loss"]
                prev = r["step"]
        else:
            per = {}
            path = os.path.join(d, "train.jsonl")
            for line in open(path) if os.path.exists(path) else []:
                r = json.loads(line)
                if "loss" in r and r.get("window") == 1:
                    per[r["step"]] = r["loss"]
            for b in range(window, steps + 1, window):
                vals = [per[s] for s in range(b - window + 1, b + 1) if s in per]
                if len(vals) == window:
                    losses[(b - window + 1, b)] = float(np.mean(vals))
        evals = {}
        for f in glob.glob(os.path.join(d, "samples_step*.csv")):
            step = int(re.search(r"samples_step(\d+)\.csv$", f).group(1))
            m = dict(scores.get(os.path.normpath(f), {}))
            pts = np.loadtxt(f, delimiter=",", skiprows=1, ndmin=2)
            true = checkerboard(len(pts), np.random.default_rng(12345))
            m["nn_ratio"] = nn_median(pts) / nn_median(true)
            evals[step] = m
        res[seed] = dict(losses=losses, evals=evals)
    return res

rust, torch_ = runs("rust"), runs("pytorch")

def stat(v):
    v = [x for x in v if x is not None and math.isfinite(x)]
    if not v:
        return None, None, 0
    return float(np.mean(v)), (float(np.std(v, ddof=1)) if len(v) > 1 else None), len(v)

def show(m, s, digits):
    if m is None:
        return "—"
    return f"{m:.{digits}f}" + (f" ± {s:.{digits}f}" if s is not None else "")

def welch(a, b):
    (ma, sa, na), (mb, sb, nb) = a, b
    if None in (ma, mb, sa, sb) or na < 2 or nb < 2:
        return "—"
    se = math.sqrt(sa * sa / na + sb * sb / nb)
    return f"{(ma - mb) / se:+.1f}" if se > 0 else "—"

print(f"\nseeds: rust {sorted(rust)}, pytorch {sorted(torch_)}  (mean ± sd over seeds; t = Welch t of rust − pytorch)")
print(f"\ntraining loss, mean over windows of {window} steps")
print(f"| steps | rust | pytorch | rust/pytorch | t |")
print(f"|---|---|---|---|---|")
wins = sorted({w for r in list(rust.values()) + list(torch_.values()) for w in r["losses"]})
for w in wins:
    a = stat([r["losses"].get(w) for r in rust.values()])
    b = stat([r["losses"].get(w) for r in torch_.values()])
    ratio = f"{a[0] / b[0]:.3f}" if a[0] and b[0] else "—"
    print(f"| {w[0]}–{w[1]} | {show(a[0], a[1], 1)} | {show(b[0], b[1], 1)} | {ratio} | {welch(a, b)} |")

print(f"\nsample quality of the EMA weights (metric_calibration's BV/JS_cell/WED_norm; nn_ratio = median NN distance / that of as many true points)")
print("| step | metric | rust | pytorch | t | rust per seed | pytorch per seed |")
print("|---|---|---|---|---|---|---|")
steps_eval = sorted({s for r in list(rust.values()) + list(torch_.values()) for s in r["evals"]})
for s in steps_eval:
    for key, digits in [("bv", 4), ("js_cell", 5), ("wed_norm", 4), ("nn_ratio", 3)]:
        va = [r["evals"].get(s, {}).get(key) for r in rust.values()]
        vb = [r["evals"].get(s, {}).get(key) for r in torch_.values()]
        a, b = stat(va), stat(vb)
        each = lambda v: " ".join("—" if x is None or not math.isfinite(x) else f"{x:.{digits}f}" for x in v)
        print(f"| {s} | {key} | {show(a[0], a[1], digits)} | {show(b[0], b[1], digits)} | {welch(a, b)} | {each(va)} | {each(vb)} |")
print(f"\nfiles: {out}/rust/seed*/ (run/, samples_step*.csv), {out}/pytorch/seed*/ (train.jsonl, samples_step*.csv), {out}/scores.txt")
PY
