#!/usr/bin/env bash
# Sets up what is missing, then runs every test: unit, integration (real SQLite, files and
# Tesseract; moto and wire fakes for AWS), the Lambda path, and the browser tests (Playwright +
# Debian Chromium) on the release build.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/install-tools.sh
export PATH="$HOME/.cargo/bin:$root/end2end/node_modules/.bin:$PATH"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "unit and integration tests"
# One invocation, so the ~60 crates both need are built once with the same features.
cargo test -p app -p server --features app/ssr

step "release build (cargo-leptos: WASM + CSS, and the server static for musl: the Lambda package)"
bash infra/build-lambda.sh

step "infrastructure (cfn-lint, shellcheck; the Lambda package under a Runtime API emulator)"
bash infra/test.sh --built

step "browser tests (the same server binary, directly and behind the edge emulator)"
cd end2end
KIRO_SERVER_DIR="$root/target/x86_64-unknown-linux-musl/release" npx playwright test
