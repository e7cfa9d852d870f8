#!/usr/bin/env bash
# Sets up what is missing and runs Kiro Access locally on the embedded default (SQLite, files,
# Tesseract) at http://127.0.0.1:3000. Keys are generated on first start and printed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/install-tools.sh
export PATH="$HOME/.cargo/bin:$root/end2end/node_modules/.bin:$PATH"
exec cargo leptos serve --release --precompress
