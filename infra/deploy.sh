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
set -euo pipefail
[ $# -ge 4 ] || { sed -n '2,15p' "$0"; exit 2; }
stack=$1 store=$2 group=$3 code_bucket=$4
shift 4
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

output() {
  aws cloudformation describe-stacks --stack-name "$stack" \
    --query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue" --output text
}

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
