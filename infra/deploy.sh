#!/usr/bin/env bash
# Deploys Kiro Access to an AWS account: builds the package, uploads it, creates or updates the
# stack and uploads the site assets (content-hashed names, cached for a year). Idempotent.
#
#   infra/deploy.sh STACK_NAME IDENTITY_STORE_ID GROUP_ID CODE_BUCKET [extra parameter overrides...]
#   KIRO_ARCH=arm64 infra/deploy.sh ...   the same with an arm64 (Graviton) package
#
# GROUP_ID is the existing Identity Store group whose members get Kiro Pro (the function may add
# members to it and to no other group):
#   aws identitystore get-group-id --identity-store-id d-... \
#     --alternate-identifier '{"UniqueAttribute":{"AttributePath":"displayName","AttributeValue":"Kiro Pro"}}'
#
# Needs the AWS CLI (v2, or `pip install awscli`) with credentials for the target account, and a
# bucket for the Lambda package in the stack's region. Keys: see infra/rotate-keys.sh.
#
# Safe by default: it refuses a stack without MailFrom (no mailed codes: anyone holding the
# member key could ask for any address), without MaxSeats or without AllowedDomains, unless
# told so with --no-email-codes, --no-seat-cap or --any-domain (values the deployed stack already
# has count as given). KIRO_DEPLOY_CHECK_ONLY=1 stops after this check.
set -euo pipefail
[ $# -ge 4 ] || { sed -n '2,20p' "$0"; exit 2; }
stack=$1 store=$2 group=$3 code_bucket=$4
shift 4
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

output() {
  aws cloudformation describe-stacks --stack-name "$stack" \
    --query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue" --output text
}

no_codes=0 no_cap=0 any_domain=0 overrides=()
for arg in "$@"; do
  case $arg in
    --no-email-codes) no_codes=1 ;;
    --no-seat-cap) no_cap=1 ;;
    --any-domain) any_domain=1 ;;
    *) overrides+=("$arg") ;;
  esac
done
# Whether parameter $1 is given a value here, or already has one in the deployed stack.
given() {
  local arg deployed
  for arg in "${overrides[@]}"; do [[ $arg == "$1="?* ]] && return 0; done
  deployed=$(aws cloudformation describe-stacks --stack-name "$stack" \
    --query "Stacks[0].Parameters[?ParameterKey=='$1'].ParameterValue" --output text 2>/dev/null) || return 1
  [ -n "$deployed" ] && [ "$deployed" != None ]
}
missing=()
[ $no_codes = 1 ] || given MailFrom ||
  missing+=('MailFrom="Kiro Access <access@example.com>" (an SES identity: requesters prove their address with a mailed code), or --no-email-codes')
[ $no_cap = 1 ] || given MaxSeats || missing+=("MaxSeats=N (the most seats the group may hold), or --no-seat-cap")
[ $any_domain = 1 ] || given AllowedDomains ||
  missing+=("AllowedDomains=example.com,example.org (who may ask), or --any-domain")
if [ ${#missing[@]} -gt 0 ]; then
  echo "deploy.sh: refusing a stack that would be open by default; give" >&2
  printf '  %s\n' "${missing[@]}" >&2
  exit 2
fi
if [ -n "${KIRO_DEPLOY_CHECK_ONLY:-}" ]; then
  echo "deploy.sh: the settings are given"
  exit 0
fi
set -- "${overrides[@]}"

# The asset names carry content hashes, so an uploaded file never changes: browsers and CloudFront
# keep it a year and nothing is invalidated. Old files stay, for pages already open.
upload_assets() {
  local bucket=$1 year="public, max-age=31536000, immutable"
  aws s3 sync target/site/pkg "s3://$bucket/pkg" --exclude "*" --include "*.js" --include "*.css" \
    --cache-control "$year"
  # Streaming WASM compilation needs the MIME type, which not every system's table knows.
  aws s3 sync target/site/pkg "s3://$bucket/pkg" --exclude "*" --include "*.wasm" \
    --content-type application/wasm --cache-control "$year"
}

arch=${KIRO_ARCH:-x86_64}
bash infra/build-lambda.sh "$arch"
key="kiro-access/bootstrap-$(sha256sum target/lambda/bootstrap.zip | cut -c1-16).zip"
aws s3 cp target/lambda/bootstrap.zip "s3://$code_bucket/$key"

# On an update the new assets go up before the new code can serve pages that name them.
if assets=$(output AssetsBucket 2>/dev/null) && [ -n "$assets" ] && [ "$assets" != None ]; then
  upload_assets "$assets"
fi

aws cloudformation deploy \
  --stack-name "$stack" \
  --template-file infra/template.yaml \
  --capabilities CAPABILITY_IAM \
  --no-fail-on-empty-changeset \
  --parameter-overrides "IdentityStoreId=$store" "GroupId=$group" "CodeBucket=$code_bucket" \
  "CodeKey=$key" "Architecture=$arch" "$@"

upload_assets "$(output AssetsBucket)" # the first deploy has only now made the bucket

echo "Deployed: $(output Url)"
echo "Keys: infra/rotate-keys.sh $stack add member  (and: add admin)"
