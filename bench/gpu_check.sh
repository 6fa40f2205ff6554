#!/usr/bin/env bash
# GPU verification of `--device cuda` (issue #20), prepared for a lent GPU machine with CUDA,
# nvcc and PyTorch but no Rust toolchain and no network. Estimated at about 6 minutes (not yet run on a GPU).
#
# Build first where nvcc is (the development machine can, with NVIDIA's CUDA 13.0 wheels from
# PyPI: docs/gpu.md), then carry the folder:
#   bench/gpu_check.sh --build        # writes gpu-carry/bins.tar.xz (genads and paper_steps, stripped)
# On the GPU machine, from the repository root (the device tool: carry ["gpu-carry"], timeout 540):
#   OUT=$OUT bench/gpu_check.sh       # prints JSON lines and a summary; writes $OUT/gpu_check.jsonl
#
# What it checks:
#   1. the same training through the device boundary: the baseline (MLP) and ads_kg_linear
#      (source-mixture network with its backbone gate) for 200 steps on cpu and on cuda, same seed;
#      the final losses and metrics must agree to float tolerance (1e-2 relative on the loss);
#   2. the paper CNN (batch 64) and U-Net (batch 128) training step, Rust on cuda against PyTorch
#      on the same GPU (bench/pytorch_reference.py --device cuda), as a ratio;
#   3. 2,000 steps of the paper checkerboard protocol (ads_linear, paper preset) on cuda, with
#      its metrics on 2,000 samples.
set -euo pipefail
cd "$(dirname "$0")/.."
CARRY=${CARRY:-gpu-carry}

if [ "${1:-}" = "--build" ]; then
  # Needs nvcc on PATH, CUDA_ROOT (its include/ and lib/) and CUDA_COMPUTE_CAP (90 for H100/H200).
  : "${CUDA_ROOT:?set CUDA_ROOT to the CUDA toolkit or to the nvidia/cu13 folder of the wheels: docs/gpu.md}"
  T=${CARGO_TARGET_DIR:-target}
  case $T in /*) LINK=$T/cuda-link ;; *) LINK=$PWD/$T/cuda-link ;; esac
  mkdir -p "$LINK"
  # Unversioned names of the CUDA libraries candle links against.
  for lib in cublas cublasLt cudart curand nvrtc; do
    found=$(ls "$CUDA_ROOT"/lib*/lib$lib.so* 2>/dev/null | head -1)
    [ -n "$found" ] && ln -sf "$found" "$LINK/lib$lib.so"
  done
  # A link-time stand-in for the driver (libcuda.so.1) when there is none, made from the symbols
  # the link asks for; the GPU machine's own driver is loaded at run time.
  link() {
    LIBRARY_PATH=$LINK cargo rustc --release --features cuda --bin genads -- -C link-arg=-Wl,--error-limit=0
  }
  if ! ldconfig -p | grep -q 'libcuda.so '; then
    echo 'void genads_no_driver(void) {}' >"$LINK/stub.c"
    gcc -shared -fPIC -Wl,-soname,libcuda.so.1 -o "$LINK/libcuda.so" "$LINK/stub.c"
    link 2>&1 | grep -oE 'undefined symbol: cu[A-Za-z0-9_]+' | sort -u | awk '{print "int " $3 "(void) { return 999; }"}' >"$LINK/stub.c" || true
    gcc -shared -fPIC -Wl,-soname,libcuda.so.1 -o "$LINK/libcuda.so" "$LINK/stub.c"
  fi
  link
  bench=$(LIBRARY_PATH=$LINK cargo bench -p genads-runtime --features cuda --bench paper_steps --no-run --message-format=json 2>/dev/null |
    python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == "paper_steps":
        print(m["executable"])')
  # Stripped and packed: ≈ 9 MB instead of ≈ 117 MB, under the device tool's 64 MiB carry limit.
  mkdir -p "$CARRY"
  strip -o "$CARRY/genads" "$T/release/genads"
  strip -o "$CARRY/paper_steps" "$bench"
  tar cf - -C "$CARRY" genads paper_steps | xz -9 -T2 >"$CARRY/bins.tar.xz"
  rm "$CARRY/genads" "$CARRY/paper_steps"
  ls -l "$CARRY"
  exit 0
fi

[ -x "$CARRY/genads" ] || tar xJf "$CARRY/bins.tar.xz" -C "$CARRY"

# The CUDA libraries of the machine (toolkit, or PyTorch's wheels) for the carried binaries.
for d in /usr/local/cuda/lib64 $(python3 -c 'import nvidia, os; print(" ".join(os.path.join(p, s, "lib") for p in nvidia.__path__ for s in os.listdir(p)))' 2>/dev/null); do
  [ -d "$d" ] && LD_LIBRARY_PATH=${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}$d
done
export LD_LIBRARY_PATH
if ldd "$CARRY/genads" | grep -q 'not found'; then
  echo "missing CUDA libraries:"; ldd "$CARRY/genads" | grep 'not found'; exit 1
fi

OUT=${OUT:-target/gpu}
mkdir -p "$OUT"
LOG="$OUT/gpu_check.jsonl"
: >"$LOG"
G="$CARRY/genads"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | sed 's/^/# gpu: /' || echo "# no nvidia-smi"

# 1. cpu vs cuda through the same commands.
for model in baseline ads_kg_linear; do
  for device in cpu cuda; do
    RAYON_NUM_THREADS=8 "$G" train "models/$model.genads" --steps 200 --eval-every 100 \
      --eval-samples 500 --final-samples 2000 --eval-steps 25 --device "$device" --out "$OUT/$model-$device" >"$OUT/$model-$device.log" 2>&1
  done
  python3 - "$OUT/$model-cpu" "$OUT/$model-cuda" "$model" <<'PY' | tee -a "$LOG"
import json, sys
a, b, model = sys.argv[1:]
ea, eb = (json.load(open(f"{d}/eval.json")) for d in (a, b))
la, lb = (json.loads(open(f"{d}/metrics.jsonl").read().splitlines()[-1]).get("loss") for d in (a, b))
rel = abs(la - lb) / max(abs(la), 1e-12) if la is not None and lb is not None else None
print(json.dumps({"check": "cpu_vs_cuda", "model": model, "loss_cpu": la, "loss_cuda": lb, "loss_rel": rel,
                  "bv_cpu": ea.get("bv"), "bv_cuda": eb.get("bv"), "ok": rel is not None and rel < 1e-2}))
PY
done

# 2. training steps against PyTorch on the same GPU.
for m in cnn unet; do
  steps=$([ "$m" = unet ] && echo 20 || echo 50)
  "$CARRY/paper_steps" "$m" --steps "$steps" --warmup 5 --device cuda | tee -a "$LOG"
  python3 bench/pytorch_reference.py --model "$m" --steps "$steps" --warmup 5 --device cuda | tee -a "$LOG"
done

# 3. the paper protocol for a fixed number of steps.
/usr/bin/time -v "$G" train models/ads_linear.genads --preset paper --steps 2000 --eval-every 0 \
  --final-samples 2000 --eval-steps 25 --device cuda --out "$OUT/paper" >"$OUT/paper.log" 2>&1 || true
python3 - "$OUT/paper" <<'PY' | tee -a "$LOG"
import json, sys
e = json.load(open(f"{sys.argv[1]}/eval.json"))
print(json.dumps({"check": "paper_protocol", "steps": 2000, **{k: e.get(k) for k in ("bv", "js_cell", "wed_norm", "nn_ratio")}}))
PY

python3 - "$LOG" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
steps = {(r["impl"], r["model"]): r["seconds_per_step"] for r in rows if "impl" in r}
for m in ("cnn", "unet"):
    if ("rust", m) in steps and ("pytorch", m) in steps:
        print(f"{m}: Rust/PyTorch on the GPU = {steps[('rust', m)] / steps[('pytorch', m)]:.2f}")
for r in rows:
    if r.get("check") == "cpu_vs_cuda":
        print(f"{r['model']}: cpu vs cuda loss rel {r['loss_rel']}, ok = {r['ok']}")
PY
