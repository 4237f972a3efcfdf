#!/usr/bin/env bash
# On the GPU machine (device tool; no Node, no npm, no network there): installs the packed
# dualbert into a fresh project with npm, offline, from the tarballs that
# bench/gpu/prepare-packed-install.sh gathered in .carry-pack/, then reports what a user gets:
#   1. with the optional `webgpu` package: capabilities(), the device `auto` chooses, an embedding
#      on it against the float64 reference, and whatever reached stderr (should be nothing);
#   2. without it (--omit=optional): the device, and the one-line notice on stderr.
# Carry [".gl", ".carry-pack"] (.gl: libvulkan1 and the GL/EGL .debs, see bench/gpu/run-device.sh).
# Usage: bash bench/gpu/packed-install-device.sh   → $OUT/packed-install.txt and .json
# Also runs here (system Node and npm; Vulkan as the environment sets it up, e.g. SwiftShader).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
root=$PWD
D=$root/.carry-pack
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
exec > >(tee "$OUT/packed-install.txt") 2>&1

if [ -d .gl ] && ls .gl/*.deb >/dev/null 2>&1; then
  for f in .gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
if ! command -v node >/dev/null 2>&1; then
  mkdir -p /tmp/n && xz -dc "$D/node.xz" > /tmp/n/node && chmod +x /tmp/n/node
  export PATH=/tmp/n:$PATH
fi
nvidia_icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ] && [ -f "$nvidia_icd" ]; then export VK_DRIVER_FILES=$nvidia_icd; fi
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null || echo "(no nvidia-smi)"
echo "node $(node --version); VK_DRIVER_FILES=${VK_DRIVER_FILES:-} VK_ICD_FILENAMES=${VK_ICD_FILENAMES:-}"

npm_home=$(mktemp -d)
tar -xJf "$D/npm.tar.xz" -C "$npm_home"
npm() { node "$npm_home/npm/bin/npm-cli.js" "$@"; }
# An empty cache and --offline: nothing may come from a registry.
export npm_config_cache=$npm_home/cache npm_config_update_notifier=false npm_config_audit=false npm_config_fund=false
dualbert_tgz=$(ls "$D"/dualbert-*.tgz)
webgpu_tgzs=$(ls "$D"/webgpu-[0-9]*.tgz "$D"/webgpu-types-*.tgz "$D"/debug-*.tgz "$D"/ms-*.tgz)

cat > "$npm_home/main.mjs" <<'JS'
import { capabilities, createEmbedder } from 'dualbert';
const texts = ['A man is eating food.', 'A man is riding a horse.', 'WebGPU and WebAssembly run the same BERT graph.'];
const report = { capabilities: await capabilities() };
let t0 = performance.now();
const auto = await createEmbedder('synthetic:minilm');
report.autoDevice = auto.device;
const got = await auto.embed(texts);
report.autoMs = Math.round(performance.now() - t0);
const ref = await createEmbedder('synthetic:minilm', { device: 'reference' });
const want = await ref.embed(texts);
report.maxAbsDiffVsReference = got.data.reduce((m, v, i) => Math.max(m, Math.abs(v - want.data[i])), 0);
auto.dispose();
ref.dispose();
try {
  const gpu = await createEmbedder('synthetic:minilm', { device: 'webgpu' });
  const { data } = await gpu.embed(texts);
  report.explicitWebgpu = { device: gpu.device, maxAbsDiffVsReference: data.reduce((m, v, i) => Math.max(m, Math.abs(v - want.data[i])), 0) };
  gpu.dispose();
} catch (e) {
  report.explicitWebgpu = { error: `${e.code}: ${e.message}` };
}
process.stdout.write(`${JSON.stringify(report)}\n`, () => process.exit(0));
JS

run_case() { # name, npm install arguments...
  local name=$1; shift
  local app=$npm_home/$name
  mkdir -p "$app" && cd "$app"
  echo '{"name":"app","private":true,"type":"module"}' > package.json
  echo "== $name: npm install $(for a in "$@"; do basename -- "$a"; done | tr '\n' ' ')"
  npm install "$@" --offline --no-audit --no-fund 2>&1 | tail -2
  echo "webgpu installed: $([ -f node_modules/webgpu/package.json ] && echo yes || echo no)"
  cp "$npm_home/main.mjs" .
  node main.mjs > "stdout.json" 2> "stderr.txt" || echo "main.mjs exited $?"
  echo "-- stdout:"; cat stdout.json
  echo "-- stderr ($(wc -l < stderr.txt) lines):"; cat stderr.txt
  cd "$root"
}
# shellcheck disable=SC2086
run_case with-webgpu "$dualbert_tgz" $webgpu_tgzs
run_case without-webgpu "$dualbert_tgz" --omit=optional

node -e '
const fs = require("fs");
const read = (n) => ({ stdout: (() => { try { return JSON.parse(fs.readFileSync(`${process.argv[1]}/${n}/stdout.json`, "utf8")); } catch (e) { return String(e); } })(),
  stderr: fs.readFileSync(`${process.argv[1]}/${n}/stderr.txt`, "utf8") });
fs.writeFileSync(process.argv[2], JSON.stringify({ withWebgpu: read("with-webgpu"), withoutWebgpu: read("without-webgpu") }, null, 2));
' "$npm_home" "$OUT/packed-install.json"
echo "== summary: with webgpu auto chose: $(node -e 'const r=require(process.argv[1]); console.log(r.withWebgpu.stdout.autoDevice, "| stderr bytes:", r.withWebgpu.stderr.length, "| without webgpu:", r.withoutWebgpu.stdout.autoDevice)' "$OUT/packed-install.json")"
