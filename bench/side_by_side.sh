#!/usr/bin/env bash
# Rust vs PyTorch training-step time of the paper's networks, side by side in one run on this
# machine: the checkerboard CNN and MLP at batch 64 and the MNIST U-Net at batch 128 (PAPER.md
# §6.1–6.4). For each thread count the Rust step (genads-runtime/benches/paper_steps.rs,
# RAYON_NUM_THREADS=T) and the PyTorch step (bench/pytorch_reference.py, torch.set_num_threads(T))
# alternate model by model, and the script prints the ratio Rust/PyTorch (< 1: Rust is faster).
#
# Usage: bench/side_by_side.sh [THREADS...]           (default: 1 2)
# Env:   MODELS="cnn mlp unet", STEPS (timed steps, default 5; U-Net 3), WARMUP (default 2),
#        PYTHON (default bench/.venv/bin/python), OUT (JSON lines file, default target/side_by_side.jsonl)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-bench/.venv/bin/python}
MODELS=${MODELS:-cnn mlp unet}
WARMUP=${WARMUP:-2}
OUT=${OUT:-target/side_by_side.jsonl}
THREADS=("$@")
[ ${#THREADS[@]} -eq 0 ] && THREADS=(1 2)

cargo bench -p genads-runtime --bench paper_steps --no-run >/dev/null 2>&1 ||
  cargo bench -p genads-runtime --bench paper_steps --no-run
RUST_BIN=$(cargo bench -p genads-runtime --bench paper_steps --no-run --message-format=json 2>/dev/null |
  "$PYTHON" -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == "paper_steps":
        print(m["executable"])')
mkdir -p "$(dirname "$OUT")"
: >"$OUT"
echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for t in "${THREADS[@]}"; do
  for m in $MODELS; do
    steps=${STEPS:-$([ "$m" = unet ] && echo 3 || echo 5)}
    RAYON_NUM_THREADS=$t "$RUST_BIN" "$m" --steps "$steps" --warmup "$WARMUP" | tee -a "$OUT"
    OMP_NUM_THREADS=$t RAYON_NUM_THREADS=$t "$PYTHON" bench/pytorch_reference.py --model "$m" \
      --threads "$t" --steps "$steps" --warmup "$WARMUP" | tee -a "$OUT"
  done
done
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
"$PYTHON" - "$OUT" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
by = {(r["impl"], r["model"], r["threads"]): r for r in rows}
print(f'{"model":<6} {"batch":>5} {"threads":>7} {"rust s/step":>12} {"torch s/step":>13} {"ratio":>7}')
for (impl, model, threads), r in by.items():
    if impl != "rust" or ("pytorch", model, threads) not in by:
        continue
    p = by[("pytorch", model, threads)]
    print(f'{model:<6} {r["batch"]:>5} {threads:>7} {r["seconds_per_step"]:>12.3f} '
          f'{p["seconds_per_step"]:>13.3f} {r["seconds_per_step"] / p["seconds_per_step"]:>7.2f}')
PY
