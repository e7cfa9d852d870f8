#!/usr/bin/env bash
# Builds the release: the site assets (target/site/pkg, hashed names) that deploy.sh uploads to
# the assets bucket, and the server static for musl, in one cargo-leptos build. The server binary
# (target/<triple>/release/server, hash.txt beside it) is what the browser tests run; stripped, it
# is the Lambda package's `bootstrap` (it switches to lambda_http when AWS_LAMBDA_RUNTIME_API is
# set), zipped with hash.txt as target/lambda/bootstrap.zip. One build for both is what keeps CI
# from compiling every dependency twice. Prints the sizes.
#
#   infra/build-lambda.sh          x86_64: what CI builds and every test runs
#   infra/build-lambda.sh arm64    arm64 (Graviton: cheaper per GB-second), cross-compiled with
#                                  Debian's aarch64 gcc; `infra/test.sh --built` runs it
#                                  under qemu-user. Installs the cross tools the first time.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PATH="$HOME/.cargo/bin:$root/end2end/node_modules/.bin:$PATH"
arch=${1:-x86_64}

bash scripts/install-tools.sh # cargo-leptos and the wasm tools for the site; musl-gcc, zip

# Rust links with its own self-contained musl objects; the C compiler only compiles the C in the
# tree (SQLite, aws-lc). For x86_64 that is musl-gcc (linking with it mixes two libcs and crashes);
# for arm64 Debian's cross gcc, which is also the linker (Rust brings the musl libc).
case $arch in
  x86_64)
    triple=x86_64-unknown-linux-musl strip=strip
    export CC_x86_64_unknown_linux_musl=musl-gcc
    ;;
  arm64)
    triple=aarch64-unknown-linux-musl strip=aarch64-linux-gnu-strip
    command -v aarch64-linux-gnu-gcc >/dev/null || {
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc-aarch64-linux-gnu qemu-user >/dev/null
    }
    rustup target list --installed | grep -qx "$triple" || rustup target add "$triple"
    export CC_aarch64_unknown_linux_musl=aarch64-linux-gnu-gcc
    # glibc's headers turn SQLite's large-file calls into open64/stat64/..., which musl 1.2.4+
    # does not export; on a 64-bit target the plain calls are already 64-bit.
    export LIBSQLITE3_FLAGS=-DSQLITE_DISABLE_LFS
    export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER=aarch64-linux-gnu-gcc
    ;;
  *) sed -n '9,12p' "$0" >&2; exit 2 ;;
esac
LEPTOS_BIN_TARGET_TRIPLE=$triple cargo leptos build --release --precompress
build=target/$triple/release

out=target/lambda
rm -rf "$out" && mkdir -p "$out"
cp "$build/server" "$out/bootstrap"
"$strip" "$out/bootstrap"
cp "$build/hash.txt" "$out/hash.txt"
(cd "$out" && zip -q -9 bootstrap.zip bootstrap hash.txt)
printf '%s bootstrap: %s KB, bootstrap.zip: %s KB\n' "$arch" \
  "$(( $(stat -c %s "$out/bootstrap") / 1024 ))" "$(( $(stat -c %s "$out/bootstrap.zip") / 1024 ))"
