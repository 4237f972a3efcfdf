#!/usr/bin/env bash
# Here (a machine with Node and npm): gathers in .carry-pack/ what bench/gpu/packed-install-device.sh
# needs on the GPU machine, which has no Node, no npm and no network:
#   node.xz            the Node binary (copied from .carry/node.xz when that exists)
#   npm.tar.xz         the npm CLI, so the install there is a real `npm install`, offline
#   dualbert-*.tgz     `npm pack` of this checkout (dist/ and build/*.wasm must be built)
#   webgpu-*.tgz       the optional dependency, cut to its linux-x64 dawn.node (the published
#                      tarball holds every platform: 51 MB, too much to carry), and its own
#                      dependencies (@webgpu/types, debug, ms) packed from node_modules
# About 35 MB in all. Usage: npm run build:ts && bash bench/gpu/prepare-packed-install.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
D=.carry-pack
[ -f dist/index.js ] && [ -f build/dualbert-simd.wasm ] || { echo "build first: npm run build:wasm && npm run build:ts" >&2; exit 2; }
rm -rf "$D" && mkdir -p "$D"

if [ -f .carry/node.xz ]; then cp .carry/node.xz "$D/node.xz"; else xz -T2 -6 -c "$(command -v node)" > "$D/node.xz"; fi
npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
tar -C "$(dirname "$npm_dir")" -cJf "$D/npm.tar.xz" "$(basename "$npm_dir")"

npm pack --ignore-scripts --pack-destination "$D" >/dev/null

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r node_modules/webgpu "$tmp/webgpu"
find "$tmp/webgpu/dist" -mindepth 1 -maxdepth 1 ! -name linux-x64 -exec rm -rf {} +
for p in "$tmp/webgpu" ./node_modules/@webgpu/types ./node_modules/debug ./node_modules/ms; do
  npm pack "$p" --ignore-scripts --pack-destination "$D" >/dev/null
done
ls -la "$D"
du -sh "$D"
