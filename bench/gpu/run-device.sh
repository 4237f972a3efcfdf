#!/usr/bin/env bash
# Runs bench/gpu.mjs on the GPU machine (no Node, no npm, no network there), with what the lead
# carries in (a GPU machine without Node: the Node binary and the Vulkan/GL libraries travel with the run):
#   .gl/*.deb             libvulkan1 and the GL/EGL libraries dawn.node links against
#   .carry/node.xz        the Node binary
#   .carry/deps.tar.xz    node_modules/webgpu (linux-x64 dawn.node) [+ onnxruntime-node, optional]
#   .carry/dist.tar.xz    dist/ built here: npm run build:ts && tar -cJf .carry/dist.tar.xz dist
# Usage (device tool, carry [".gl", ".carry"]):  bash bench/gpu/run-device.sh [bench/gpu.mjs options]
# Writes $OUT/gpu-bench.txt and $OUT/gpu-bench.json.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

for f in .carry/node.xz .carry/deps.tar.xz .carry/dist.tar.xz; do
  [ -f "$f" ] || { echo "missing $f (see the header of this script)" >&2; exit 2; }
done
for f in .gl/*.deb; do dpkg -x "$f" /; done
ldconfig
mkdir -p /tmp/n && xz -dc .carry/node.xz > /tmp/n/node && chmod +x /tmp/n/node
export PATH=/tmp/n:$PATH
export VK_DRIVER_FILES=${VK_DRIVER_FILES:-/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json}
tar -xJf .carry/deps.tar.xz
rm -rf dist && tar -xJf .carry/dist.tar.xz

OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm --format=csv 2>/dev/null | tee "$OUT/gpu-bench.txt" || true
node bench/gpu.mjs --json "$OUT/gpu-bench.json" "$@" 2>&1 | tee -a "$OUT/gpu-bench.txt"
