#!/usr/bin/env bash
# Prints the figures quoted in the README: bundle size (brotli), server overhead, analyzer
# accuracy and speed, the record index at scale, the server's peak memory (scripts/bench-memory.sh), and the page in
# Chromium: bytes downloaded and time to hydrated, unthrottled and on Fast 4G
# (scripts/bench-pages.mjs). Builds the release site first if it is not there.
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
cargo bench -p server --bench scale # the record index at 1,000 / 10,000 / 100,000 (KIRO_SCALE_SIZES)
# The same on DynamoDB, a table made as the template makes it, in dynalite (DynamoDB's API over
# an in-memory sorted store: a query reads its key's range, as DynamoDB's do; moto walks every
# item for every query, so its time grows with the table whatever the key). Its figures are
# dynalite's, on this machine, not DynamoDB's: the ratios between sizes are what they show.
[ -f target/dynalite/node_modules/dynalite/cli.js ] ||
  npm install --no-save --no-audit --no-fund --prefix target/dynalite dynalite@4.0.0
dynalite_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
node --max-old-space-size=8192 target/dynalite/node_modules/dynalite/cli.js \
  --host 127.0.0.1 --port "$dynalite_port" --createTableMs 0 >/dev/null 2>&1 &
dynalite_pid=$!
for _ in $(seq 100); do curl -s "http://127.0.0.1:$dynalite_port/" >/dev/null && break; sleep 0.1; done
KIRO_SCALE_DYNAMODB="http://127.0.0.1:$dynalite_port" cargo bench -p server --bench scale
kill "$dynalite_pid"
cargo bench -p server --bench sweep # 10,000 ended and 10,000 due seats in runs of the sweep (KIRO_SWEEP_SEATS)
bash scripts/bench-memory.sh

# The page in Chromium, against the release server (the musl build CI makes, or target/release).
dir=${KIRO_SERVER_DIR:-target/x86_64-unknown-linux-musl/release}
[ -x "$dir/server" ] || dir=target/release
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# The static build cannot load ONNX Runtime (the default reader): pages only, read with Tesseract.
KIRO_DATA_DIR="$work/data" KIRO_MEMBER_KEYS=bench-member KIRO_ADMIN_KEYS=bench-admin RUST_LOG=error \
  KIRO_ANALYZER=tesseract LEPTOS_SITE_ADDR="127.0.0.1:$port" LEPTOS_SITE_ROOT=target/site LEPTOS_OUTPUT_NAME=kiro-access \
  "$dir/server" >"$work/server.log" 2>&1 &
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
node scripts/bench-pages.mjs "http://127.0.0.1:$port"

# The Lambda package (infra/build-lambda.sh): its zipped size, and its init under the Runtime API
# emulator (start to first poll for an event, Lambda's Init Duration), median of 5 starts.
if [ -f target/lambda/bootstrap.zip ]; then
  mkdir "$work/task"
  unzip -q target/lambda/bootstrap.zip -d "$work/task"
  inits=()
  for _ in 1 2 3 4 5; do
    rm -rf "$work/lambda-data"
    line=$(KIRO_DATA_DIR="$work/lambda-data" KIRO_MEMBER_KEYS=bench-member KIRO_ADMIN_KEYS=bench-admin \
      KIRO_ANALYZER=tesseract python3 infra/tests/runtime_emulator.py server/tests/events/rest-get-root.json "$work/task/bootstrap")
    inits+=("$(sed -n 's/^init \([0-9]*\) ms.*/\1/p' <<<"$line")")
  done
  machine=$(sed -n 's/^init [0-9]* ms (\([^)]*\)).*/\1/p' <<<"$line") # "aarch64 under qemu-aarch64"
  median=$(printf '%s\n' "${inits[@]}" | sort -n | sed -n 3p)
  printf 'Lambda package (%s): %s KB zipped, %s KB unzipped; init %s ms (median of 5: %s)\n' \
    "$machine" \
    "$(( $(stat -c %s target/lambda/bootstrap.zip) / 1024 ))" \
    "$(( $(stat -c %s "$work/task/bootstrap") / 1024 ))" "$median" "${inits[*]}"
fi
