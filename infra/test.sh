#!/usr/bin/env bash
# Infrastructure checks: cfn-lint (with the serverless rules) on every template, then the server
# binary started as a Lambda `bootstrap` under a local Runtime API emulator serving one real
# API Gateway request.
#
#   infra/test.sh          the release binary cargo-leptos built (target/release/server)
#   infra/test.sh --musl   the static musl package from infra/build-lambda.sh (a second full
#                          release build, ~10 minutes on 2 cores: not part of CI's run)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

checks=0
for template in infra/*.yaml; do
  echo "cfn-lint $template"
  cfn-lint --append-rules cfn_lint_serverless.rules -- "$template"
  checks=$((checks + 1))
done

if [ "${1:-}" = --musl ]; then
  SKIP_SITE=1 bash infra/build-lambda.sh
  bootstrap=target/lambda/bootstrap
else
  bootstrap=target/release/server
  [ -x "$bootstrap" ] || cargo build --release -p server
fi
echo "Runtime API emulator: $bootstrap"
data=$(mktemp -d)
KIRO_DATA_DIR="$data" KIRO_MEMBER_KEYS=member-key-for-tests KIRO_ADMIN_KEYS=admin-key-for-tests \
  python3 infra/tests/runtime_emulator.py server/tests/events/rest-get-root.json \
  "$bootstrap" "Request Kiro Pro"
rm -rf "$data"
checks=$((checks + 1))
# Reached only when every check passed (set -e stops at the first failure).
echo "infrastructure: $checks passed, 0 failed"
