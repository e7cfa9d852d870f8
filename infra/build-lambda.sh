#!/usr/bin/env bash
# Builds the Lambda package: a static musl `bootstrap` (the same server binary, which switches to
# lambda_http when AWS_LAMBDA_RUNTIME_API is set) and the site's hash.txt beside it, zipped as
# target/lambda/bootstrap.zip; and the site assets (target/site/pkg, hashed names) that deploy.sh
# uploads to the assets bucket. Prints the sizes.
#
#   SKIP_SITE=1 infra/build-lambda.sh   reuse the site `cargo leptos build --release` just built
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PATH="$HOME/.cargo/bin:$root/end2end/node_modules/.bin:$PATH"

bash scripts/install-tools.sh # cargo-leptos and the wasm tools for the site; musl-gcc, zip

# The site first: its hash.txt names the assets the pages link to, and goes into the package.
[ "${SKIP_SITE:-}" = 1 ] || cargo leptos build --release
hashes=target/release/hash.txt
[ -f "$hashes" ] || { echo "no $hashes: run 'cargo leptos build --release' first" >&2; exit 1; }

# musl-gcc compiles the C in the tree (SQLite, aws-lc) for the static target; Rust links with
# its own self-contained musl objects (linking with musl-gcc mixes two libcs and crashes).
export CC_x86_64_unknown_linux_musl=musl-gcc
cargo build --release -p server --target x86_64-unknown-linux-musl --config 'profile.release.strip=true'

out=target/lambda
rm -rf "$out" && mkdir -p "$out"
cp target/x86_64-unknown-linux-musl/release/server "$out/bootstrap"
cp "$hashes" "$out/hash.txt"
(cd "$out" && zip -q -9 bootstrap.zip bootstrap hash.txt)
printf 'bootstrap: %s KB, bootstrap.zip: %s KB\n' \
  "$(( $(stat -c %s "$out/bootstrap") / 1024 ))" "$(( $(stat -c %s "$out/bootstrap.zip") / 1024 ))"
