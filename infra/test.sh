#!/usr/bin/env bash
# Infrastructure checks: cfn-lint (with the serverless rules) on every template, shellcheck on the
# scripts, then the Lambda package started under a local Runtime API emulator serving one real
# API Gateway request.
#
#   infra/test.sh           builds the release and the static musl package (infra/build-lambda.sh),
#                           unpacks it as Lambda would and runs its bootstrap
#   infra/test.sh --built   the same on the package infra/build-lambda.sh just made: what CI runs
#                           (an arm64 package, `infra/build-lambda.sh arm64`, runs under qemu-user)
#   infra/test.sh --quick   the glibc release binary `cargo leptos build --release` built
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

checks=0
for template in infra/*.yaml; do
  echo "cfn-lint $template"
  cfn-lint --append-rules cfn_lint_serverless.rules -- "$template"
  checks=$((checks + 1))
done

echo "shellcheck (warnings and errors) on the shell scripts"
shellcheck --severity=warning infra/*.sh scripts/*.sh .ci/run
checks=$((checks + 1))

echo "deploy.sh refuses a stack open by default (an aws that knows no stack)"
fake_aws=$(mktemp -d)
printf '#!/bin/sh\nexit 254\n' >"$fake_aws/aws"
chmod +x "$fake_aws/aws"
deploy_check() { PATH="$fake_aws:$PATH" KIRO_DEPLOY_CHECK_ONLY=1 bash infra/deploy.sh kiro d-1 g-1 code "$@" 2>&1; }
if out=$(deploy_check); then echo "deployed without mail, a seat cap or domains: $out"; exit 1; fi
for needed in MailFrom --no-email-codes MaxSeats --no-seat-cap AllowedDomains --any-domain; do
  grep -q -- "$needed" <<<"$out" || { echo "the refusal does not name $needed: $out"; exit 1; }
done
if out=$(deploy_check --no-email-codes MaxSeats=25); then echo "deployed without domains: $out"; exit 1; fi
grep -q AllowedDomains <<<"$out" && ! grep -q MailFrom <<<"$out" || { echo "wrong refusal: $out"; exit 1; }
deploy_check MailFrom=access@example.com MaxSeats=25 --any-domain >/dev/null ||
  { echo "refused a stack with every setting given"; exit 1; }
deploy_check --no-email-codes --no-seat-cap AllowedDomains=example.com >/dev/null ||
  { echo "refused a stack told explicitly"; exit 1; }
rm -rf "$fake_aws"
checks=$((checks + 1))

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ "${1:-}" = --quick ]; then
  bootstrap=target/release/server
  hashes=target/release/hash.txt
else
  [ "${1:-}" = --built ] || bash infra/build-lambda.sh
  mkdir "$work/task"
  unzip -q target/lambda/bootstrap.zip -d "$work/task"
  bootstrap=$work/task/bootstrap
  hashes=$work/task/hash.txt
fi
# The page must name this build's hashed script and stylesheet, read from the package's hash.txt.
js=$(sed -n 's/^js: *//p' "$hashes")
css=$(sed -n 's/^css: *//p' "$hashes")
echo "Runtime API emulator: $bootstrap"
# A static build cannot load ONNX Runtime (the default reader); deployed, the template says bedrock.
KIRO_DATA_DIR="$work/data" KIRO_MEMBER_KEYS=member-key-for-tests KIRO_ADMIN_KEYS=admin-key-for-tests \
  KIRO_ANALYZER=tesseract python3 infra/tests/runtime_emulator.py server/tests/events/rest-get-root.json "$bootstrap" \
  "Request Kiro Pro" "/pkg/kiro-access.$js.js" "/pkg/kiro-access.$css.css"
checks=$((checks + 1))
echo "Runtime API emulator: the EventBridge schedule's event runs the seats' sweep"
KIRO_DATA_DIR="$work/data" KIRO_MEMBER_KEYS=member-key-for-tests KIRO_ADMIN_KEYS=admin-key-for-tests \
  KIRO_ANALYZER=tesseract python3 infra/tests/runtime_emulator.py server/tests/events/eventbridge-scheduled.json \
  "$bootstrap" '"reclaimed":0' '"failed":0'
checks=$((checks + 1))
# Reached only when every check passed (set -e stops at the first failure).
echo "infrastructure: $checks passed, 0 failed"
