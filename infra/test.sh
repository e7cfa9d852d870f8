#!/usr/bin/env bash
# Infrastructure checks: cfn-lint (with the serverless rules) on every template, then the musl
# `bootstrap` started once under a local Lambda Runtime API emulator serving one real request.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

checks=0
for template in infra/*.yaml; do
  echo "cfn-lint $template"
  cfn-lint --append-rules cfn_lint_serverless.rules -- "$template"
  checks=$((checks + 1))
done

SKIP_SITE=1 bash infra/build-lambda.sh
data=$(mktemp -d)
KIRO_DATA_DIR="$data" KIRO_MEMBER_KEYS=member-key-for-tests KIRO_ADMIN_KEYS=admin-key-for-tests \
  python3 infra/tests/runtime_emulator.py server/tests/events/rest-get-root.json \
  target/lambda/bootstrap "Request Kiro Pro"
rm -rf "$data"
checks=$((checks + 1))
# Reached only when every check passed (set -e stops at the first failure).
echo "infrastructure: $checks passed, 0 failed"
