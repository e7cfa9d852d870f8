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
cargo test -p app --features ssr
cargo test -p server

step "release build (cargo-leptos: server + WASM + CSS)"
cargo leptos build --release

step "infrastructure (cfn-lint; the static musl Lambda package under a Runtime API emulator)"
bash infra/test.sh

step "browser tests"
cd end2end
npx playwright test
