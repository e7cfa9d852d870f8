#!/usr/bin/env bash
# Prints the figures quoted in the README: bundle size (brotli), server overhead, analyzer
# accuracy and speed, and the server's peak memory (scripts/bench-memory.sh). Builds the release
# site first if it is not there.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PATH="$HOME/.cargo/bin:$root/end2end/node_modules/.bin:$PATH"
compgen -G "target/site/pkg/*.wasm" >/dev/null || cargo leptos build --release

node -e '
const fs = require("fs"), zlib = require("zlib"), path = require("path");
const dir = "target/site/pkg";
let raw = 0, br = 0;
for (const f of fs.readdirSync(dir).filter((f) => /\.(wasm|js|css)$/.test(f))) {
  const bytes = fs.readFileSync(path.join(dir, f));
  const size = zlib.brotliCompressSync(bytes, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
  raw += bytes.length; br += size;
  console.log(`  ${f}: ${(bytes.length / 1024).toFixed(0)} KB raw, ${(size / 1024).toFixed(0)} KB brotli`);
}
console.log(`browser bundle (wasm + js + css): ${(raw / 1024).toFixed(0)} KB raw, ${(br / 1024).toFixed(0)} KB brotli  (target <= 200 KB)`);
'
cargo bench -p server --bench figures
bash scripts/bench-memory.sh
