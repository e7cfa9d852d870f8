#!/usr/bin/env bash
# Deploys Kiro Access to an AWS account: builds the package, uploads it, creates or updates the
# stack, uploads the site assets and invalidates them in CloudFront. Idempotent.
#
#   infra/deploy.sh STACK_NAME IDENTITY_STORE_ID CODE_BUCKET [extra parameter overrides...]
#
# Needs the AWS CLI (v2, or `pip install awscli`) with credentials for the target account, and a
# bucket for the Lambda package in the stack's region. Keys: see infra/rotate-keys.sh.
set -euo pipefail
[ $# -ge 3 ] || { sed -n '2,9p' "$0"; exit 2; }
stack=$1 store=$2 code_bucket=$3
shift 3
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

bash infra/build-lambda.sh
key="kiro-access/bootstrap-$(sha256sum target/lambda/bootstrap.zip | cut -c1-16).zip"
aws s3 cp target/lambda/bootstrap.zip "s3://$code_bucket/$key"

aws cloudformation deploy \
  --stack-name "$stack" \
  --template-file infra/template.yaml \
  --capabilities CAPABILITY_IAM \
  --no-fail-on-empty-changeset \
  --parameter-overrides "IdentityStoreId=$store" "CodeBucket=$code_bucket" "CodeKey=$key" "$@"

output() {
  aws cloudformation describe-stacks --stack-name "$stack" \
    --query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue" --output text
}
assets=$(output AssetsBucket)
distribution=$(output DistributionId)

# The file names are stable (kiro-access.js, .wasm, .css), so they are cached briefly and
# invalidated on every deploy.
aws s3 sync target/site/pkg "s3://$assets/pkg" --delete \
  --cache-control "public, max-age=300" --exclude "*.d.ts"
aws s3 cp "s3://$assets/pkg/kiro-access.wasm" "s3://$assets/pkg/kiro-access.wasm" \
  --content-type application/wasm --cache-control "public, max-age=300" --metadata-directive REPLACE
aws cloudfront create-invalidation --distribution-id "$distribution" --paths "/pkg/*" >/dev/null

echo "Deployed: $(output Url)"
echo "Keys: infra/rotate-keys.sh $stack add member  (and: add admin)"
