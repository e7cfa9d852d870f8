#!/usr/bin/env bash
# Builds the release: the site assets (target/site/pkg, hashed names) that deploy.sh uploads to
# the assets bucket, and the server static for musl, in one cargo-leptos build. The server binary
# (target/x86_64-unknown-linux-musl/release/server, hash.txt beside it) is what the browser tests
# run; stripped, it is the Lambda package's `bootstrap` (it switches to lambda_http when
# AWS_LAMBDA_RUNTIME_API is set), zipped with hash.txt as target/lambda/bootstrap.zip. One build
# for both is what keeps CI from compiling every dependency twice. Prints the sizes.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PATH="$HOME/.cargo/bin:$root/end2end/node_modules/.bin:$PATH"

bash scripts/install-tools.sh # cargo-leptos and the wasm tools for the site; musl-gcc, zip

# musl-gcc compiles the C in the tree (SQLite, aws-lc) for the static target; Rust links with
# its own self-contained musl objects (linking with musl-gcc mixes two libcs and crashes).
export CC_x86_64_unknown_linux_musl=musl-gcc
LEPTOS_BIN_TARGET_TRIPLE=x86_64-unknown-linux-musl cargo leptos build --release --precompress
build=target/x86_64-unknown-linux-musl/release

out=target/lambda
rm -rf "$out" && mkdir -p "$out"
cp "$build/server" "$out/bootstrap"
strip "$out/bootstrap"
cp "$build/hash.txt" "$out/hash.txt"
(cd "$out" && zip -q -9 bootstrap.zip bootstrap hash.txt)
printf 'bootstrap: %s KB, bootstrap.zip: %s KB\n' \
  "$(( $(stat -c %s "$out/bootstrap") / 1024 ))" "$(( $(stat -c %s "$out/bootstrap.zip") / 1024 ))"
