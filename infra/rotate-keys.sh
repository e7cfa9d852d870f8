#!/usr/bin/env bash
# Adds or retires an API key without touching the stack. A key lives in two places that must
# agree: API Gateway (which requires it on every POST and applies the usage plan's limits to it)
# and Parameter Store (`member-keys` / `admin-keys`, which the app checks the role against).
#
#   infra/rotate-keys.sh STACK add member|admin     # prints the new key
#   infra/rotate-keys.sh STACK retire KEY
#
# Rotation without downtime: `add` a new key, hand it out, then `retire` the old one. Running
# Lambda instances read Parameter Store once at start, so both commands end by publishing a
# configuration change that makes new instances start (old ones drain within minutes).
set -euo pipefail
[ $# -ge 3 ] || { sed -n '2,12p' "$0"; exit 2; }
stack=$1 action=$2 arg=$3

output() {
  aws cloudformation describe-stacks --stack-name "$stack" \
    --query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue" --output text
}
path=$(output ParameterPath)
plan=$(output UsagePlanId)
function=$(output FunctionName)

get_list() { # role -> comma-separated keys ("" when none)
  aws ssm get-parameter --name "$path/$1-keys" --with-decryption \
    --query Parameter.Value --output text 2>/dev/null || true
}
put_list() { # role, list
  aws ssm put-parameter --name "$path/$1-keys" --type SecureString --overwrite --value "$2" >/dev/null
}
restart_instances() {
  aws lambda update-function-configuration --function-name "$function" \
    --description "Kiro Access (keys changed $(date -u +%Y-%m-%dT%H:%M:%SZ))" >/dev/null
}

case "$action" in
  add)
    role=$arg
    [[ $role == member || $role == admin ]] || { echo "role must be member or admin" >&2; exit 2; }
    key="k${role:0:1}_$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    id=$(aws apigateway create-api-key --name "kiro-$role-$(date -u +%Y%m%d%H%M%S)" \
      --value "$key" --enabled --query id --output text)
    aws apigateway create-usage-plan-key --usage-plan-id "$plan" --key-id "$id" --key-type API_KEY >/dev/null
    current=$(get_list "$role")
    put_list "$role" "${current:+$current,}$key"
    restart_instances
    echo "$key"
    ;;
  retire)
    key=$arg
    for role in member admin; do
      current=$(get_list "$role")
      kept=$(tr ',' '\n' <<<"$current" | grep -vxF "$key" | paste -sd, - || true)
      if [ "$kept" != "$current" ]; then
        if [ -n "$kept" ]; then put_list "$role" "$kept"; else aws ssm delete-parameter --name "$path/$role-keys"; fi
      fi
    done
    id=$(aws apigateway get-api-keys --include-values \
      --query "items[?value=='$key'].id | [0]" --output text)
    [ "$id" = "None" ] || aws apigateway delete-api-key --api-key "$id"
    restart_instances
    echo "retired"
    ;;
  *) echo "unknown action $action" >&2; exit 2 ;;
esac
