#!/usr/bin/env bash
# Builds the Lambda package: a static musl `bootstrap` (the same server binary, which switches to
# lambda_http when AWS_LAMBDA_RUNTIME_API is set) zipped as target/lambda/bootstrap.zip, and the
# site assets (target/site/pkg) that deploy.sh uploads to the assets bucket. Prints the sizes.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PATH="$HOME/.cargo/bin:$root/end2end/node_modules/.bin:$PATH"

# musl-gcc compiles the C in the tree (SQLite, aws-lc) for the static target; Rust links with
# its own self-contained musl objects (linking with musl-gcc mixes two libcs and crashes).
need=()
command -v musl-gcc >/dev/null || need+=(musl-tools)
command -v zip >/dev/null || need+=(zip)
if ((${#need[@]})); then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
rustup target list --installed | grep -qx x86_64-unknown-linux-musl || rustup target add x86_64-unknown-linux-musl

export CC_x86_64_unknown_linux_musl=musl-gcc
cargo build --release -p server --target x86_64-unknown-linux-musl --config 'profile.release.strip=true'

out=target/lambda
mkdir -p "$out"
cp target/x86_64-unknown-linux-musl/release/server "$out/bootstrap"
(cd "$out" && rm -f bootstrap.zip && zip -q -9 bootstrap.zip bootstrap)
[ "${SKIP_SITE:-}" = 1 ] || cargo leptos build --release
printf 'bootstrap: %s KB, bootstrap.zip: %s KB\n' \
  "$(( $(stat -c %s "$out/bootstrap") / 1024 ))" "$(( $(stat -c %s "$out/bootstrap.zip") / 1024 ))"
