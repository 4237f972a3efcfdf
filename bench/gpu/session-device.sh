#!/usr/bin/env bash
# One GPU-machine session for issue #18, in at most ~7 minutes: every part below runs under its
# own time cap and runs even when another failed; everything lands in $OUT (7 files):
#   session.txt      the whole log: nvidia-smi, then each part's output, its exit status and time
#   torch.json       PyTorch CUDA fp32 baseline (bench/gpu/torch_baseline.py: minilm shapes, TF32 off)
#   ab.json          webgpu variants A/B in one process (bench/gpu/ab.mjs): GPU ms and embed() ms
#                    of B1 T16, B32 T128, B256 T128, 1000×T512 per variant, rounds alternating
#   cold.json        cold start (createEmbedder + first embed) per pipeline warm-up mode, fresh processes
#   profile.json     bench/gpu.mjs on the default variant: per-kernel profile of B1 T16 and B256 T128
#   families.json    bench/gpu/families-precision.mjs (encoder families, fp32/fp16/int8 rows, goldens
#   families.md      on this GPU), when that script exists
#
# The GPU machine has no Node, npm or network: what the run needs travels in (as run-device.sh):
#   .gl/*.deb             libvulkan1 and the GL/EGL libraries dawn.node links against
#   .carry/node.xz        the Node binary
#   .carry/deps.tar.xz    node_modules/webgpu (linux-x64 dawn.node): paths node_modules/webgpu/… or webgpu/…
#   .carry/dist.tar.xz    dist/ and build/*.wasm built here:
#                         npm run build:wasm && npm run build:ts && tar -cJf .carry/dist.tar.xz dist build/*.wasm
# Device tool: carry [".gl", ".carry"], command `bash bench/gpu/session-device.sh`.
# Here, to check the script on SwiftShader (local Node and dist/, tiny shapes):
#   bash bench/gpu/session-device.sh --swiftshader      (OUT defaults to /tmp/session-out)
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$PWD

SWIFTSHADER=0
for a in "$@"; do
  case "$a" in
    --swiftshader) SWIFTSHADER=1 ;;
    *) echo "unknown option $a (--swiftshader)" >&2; exit 2 ;;
  esac
done

OUT=${OUT:-/tmp/session-out}
mkdir -p "$OUT"
LOG="$OUT/session.txt"
: > "$LOG"
T0=$(date +%s)
say() { echo "$*" | tee -a "$LOG"; }
elapsed() { echo $(( $(date +%s) - T0 )); }

# part NAME CAP_SECONDS COMMAND...: runs under `timeout`, output appended to the log.
part() {
  local name=$1 cap=$2
  shift 2
  say ""
  say "=== $name (cap ${cap} s, at $(elapsed) s) ==="
  timeout -k 5 "$cap" "$@" 2>&1 | tee -a "$LOG"
  local rc=${PIPESTATUS[0]}
  say "=== $name: exit $rc$([ "$rc" = 124 ] && echo ' (time cap)'), at $(elapsed) s ==="
}

if [ "$SWIFTSHADER" = 1 ]; then
  export VK_ICD_FILENAMES=${VK_ICD_FILENAMES:-/usr/lib/chromium/vk_swiftshader_icd.json}
  export LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-/usr/lib/chromium}
  QUICK=(--quick)
  [ -f dist/index.js ] || { echo "build first: npm run build:ts" >&2; exit 2; }
else
  QUICK=()
  for f in .carry/node.xz .carry/deps.tar.xz .carry/dist.tar.xz; do
    [ -f "$f" ] || { say "missing $f (see the header of this script)"; exit 2; }
  done
  for f in .gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
  mkdir -p /tmp/n && xz -dc .carry/node.xz > /tmp/n/node && chmod +x /tmp/n/node
  export PATH=/tmp/n:$PATH
  export VK_DRIVER_FILES=${VK_DRIVER_FILES:-/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json}
  # deps.tar.xz holds either node_modules/webgpu/... or webgpu/... (made with -C node_modules).
  first=$(tar -tJf .carry/deps.tar.xz 2>/dev/null | head -1 || true)
  if [ "${first#node_modules/}" != "$first" ]; then
    tar -xJf .carry/deps.tar.xz
  else
    mkdir -p node_modules && tar -xJf .carry/deps.tar.xz -C node_modules
  fi
  [ -f node_modules/webgpu/dist/linux-x64/dawn.node ] || say "warning: node_modules/webgpu/dist/linux-x64/dawn.node missing after unpacking deps.tar.xz"
  rm -rf dist && tar -xJf .carry/dist.tar.xz
fi
say "session-device.sh: $(date -u +%FT%TZ), node $(node --version 2>&1), setup done at $(elapsed) s"
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,temperature.gpu,power.draw --format=csv 2>&1 | tee -a "$LOG" || true

# 1. PyTorch CUDA fp32 (TF32 off) on the same GPU: the baseline of issue #18.
if command -v python3 >/dev/null; then
  part torch 70 python3 bench/gpu/torch_baseline.py --runs 10 --json "$OUT/torch.json" ${QUICK[@]+"--quick"} $([ "$SWIFTSHADER" = 1 ] && echo --device=cpu)
else
  say "no python3: torch baseline skipped"
fi

# 2. The webgpu variants, A/B in one process (each variant's embedder made once; rounds alternate).
part ab 160 node bench/gpu/ab.mjs ${QUICK[@]+"${QUICK[@]}"} --runs 5 --budget-s 140 --json "$OUT/ab.json"

# 3. Cold start per warm-up mode, each in a fresh process.
part cold 45 node bench/gpu/ab.mjs ${QUICK[@]+"${QUICK[@]}"} --no-ab --cold --cold-reps 2 --json "$OUT/cold.json"

# 4. Where the GPU time goes: per-kernel profile of the default variant (and B1 T16 end to end).
if [ "$SWIFTSHADER" = 1 ]; then
  part profile 120 node bench/gpu.mjs --quick --only 'tiny B1 T16,tiny B4 T32' --runs 5 --no-ort --no-rerank --json "$OUT/profile.json"
else
  part profile 45 node bench/gpu.mjs --only 'minilm B1 T16,minilm B256 T128' --runs 5 --no-ort --no-rerank --json "$OUT/profile.json"
fi

# 5. int8 / family rows (another part of the project), when its script is there.
if [ -f bench/gpu/families-precision.mjs ]; then
  part families 90 node bench/gpu/families-precision.mjs ${QUICK[@]+"${QUICK[@]}"} --goldens --out "$OUT/families"
else
  say "bench/gpu/families-precision.mjs not present: skipped"
fi

say ""
say "session done in $(elapsed) s; files in $OUT:"
ls -la "$OUT" | tee -a "$LOG"
exit 0
