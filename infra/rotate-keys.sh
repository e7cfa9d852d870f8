#!/usr/bin/env bash
# Adds or retires an API key without touching the stack. A key lives in two places that must
# agree: API Gateway (which requires it on every POST and applies the usage plan's limits to it)
# and Parameter Store (`member-keys` / `admin-keys`, which the app checks the role against).
#
#   infra/rotate-keys.sh STACK add member|admin     # prints the new key
#   infra/rotate-keys.sh STACK retire               # reads the key to retire from stdin
#
# Rotation without downtime: `add` a new key, hand it out, then `retire` the old one. Running
# Lambda instances read Parameter Store once at start, so both commands end by publishing a
# configuration change that makes new instances start (old ones drain within minutes).
# Keys never appear on a command line (where `ps` and shell history would show them): they go
# to the AWS CLI in a private JSON file, and `retire` reads its key from stdin.
set -euo pipefail
[ $# -ge 2 ] || { sed -n '2,14p' "$0"; exit 2; }
stack=$1 action=$2 arg=${3:-}
umask 077
secrets=$(mktemp -d)
locked=""
trap 'release_lock; rm -rf "$secrets"' EXIT

output() {
  aws cloudformation describe-stacks --stack-name "$stack" \
    --query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue" --output text
}
path=$(output ParameterPath)
plan=$(output UsagePlanId)
function=$(output FunctionName)

get_list() { # role -> comma-separated keys ("" only when the parameter does not exist)
  local out
  if out=$(aws ssm get-parameter --name "$path/$1-keys" --with-decryption \
    --query Parameter.Value --output text 2>&1); then
    printf '%s' "$out"
  elif grep -q ParameterNotFound <<<"$out"; then
    printf ''
  else
    # Any other failure (no permission, throttling, a network error) must not read as "no keys
    # yet": `add` would then overwrite the role's list with the new key alone.
    echo "could not read $path/$1-keys: $out" >&2
    return 1
  fi
}
keys_only() { # refuses a list that is not plain key characters (it goes into JSON below)
  [[ $1 =~ ^[A-Za-z0-9_.,\ -]*$ ]] || { echo "unexpected characters in the $2 key list" >&2; return 1; }
}
put_list() { # role, list
  keys_only "$2" "$1"
  printf '{"Name":"%s","Type":"SecureString","Overwrite":true,"Value":"%s"}' \
    "$path/$1-keys" "$2" >"$secrets/put.json"
  aws ssm put-parameter --cli-input-json "file://$secrets/put.json" >/dev/null
}
# Two runs at once would each read a list, add their key and write it back: one key lost. The
# lock is a parameter created only if absent (put-parameter without --overwrite).
lock_name() { printf '%s/rotation-lock' "$path"; }
take_lock() {
  local out
  if ! out=$(aws ssm put-parameter --name "$(lock_name)" --type String \
    --value "$(hostname) pid $$ $(date -u +%Y-%m-%dT%H:%M:%SZ)" 2>&1 >/dev/null); then
    if grep -q ParameterAlreadyExists <<<"$out"; then
      echo "another rotation is running: $(lock_name) exists (delete it if that run died)" >&2
    else
      echo "could not take $(lock_name): $out" >&2
    fi
    exit 1
  fi
  locked=1
}
release_lock() {
  [ -z "$locked" ] || aws ssm delete-parameter --name "$(lock_name)" >/dev/null || true
}
restart_instances() {
  aws lambda update-function-configuration --function-name "$function" \
    --description "Kiro Access (keys changed $(date -u +%Y-%m-%dT%H:%M:%SZ))" >/dev/null
}

take_lock
case "$action" in
  add)
    role=$arg
    [[ $role == member || $role == admin ]] || { echo "role must be member or admin" >&2; exit 2; }
    current=$(get_list "$role") # before anything is created: a failure here changes nothing
    key="k${role:0:1}_$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    printf '{"name":"kiro-%s-%s","value":"%s","enabled":true}' \
      "$role" "$(date -u +%Y%m%d%H%M%S)" "$key" >"$secrets/key.json"
    id=$(aws apigateway create-api-key --cli-input-json "file://$secrets/key.json" \
      --query id --output text)
    aws apigateway create-usage-plan-key --usage-plan-id "$plan" --key-id "$id" --key-type API_KEY >/dev/null
    put_list "$role" "${current:+$current,}$key"
    restart_instances
    echo "$key"
    ;;
  retire)
    [ -z "$arg" ] || { echo "retire reads the key from stdin, not from the command line" >&2; exit 2; }
    [ -t 0 ] && printf 'Key to retire: ' >&2
    IFS= read -rs key
    [ -t 0 ] && echo >&2
    [ -n "$key" ] || { echo "no key given" >&2; exit 2; }
    for role in member admin; do
      current=$(get_list "$role")
      # The key reaches grep through a pipe from a builtin, never as an argument.
      kept=$(tr ',' '\n' <<<"$current" | sed 's/^ *//; s/ *$//' \
        | grep -vxF -f <(printf '%s\n' "$key") | paste -sd, - || true)
      if [ "$kept" != "$current" ]; then
        if [ -n "$kept" ]; then put_list "$role" "$kept"; else aws ssm delete-parameter --name "$path/$role-keys"; fi
      fi
    done
    # Matched here, not in a --query that would carry the key on the command line.
    id=""
    while read -r candidate value; do
      if [ "$value" = "$key" ]; then id=$candidate; fi
    done < <(aws apigateway get-api-keys --include-values --query "items[].[id,value]" --output text)
    [ -z "$id" ] || aws apigateway delete-api-key --api-key "$id"
    restart_instances
    echo "retired"
    ;;
  *) echo "unknown action $action" >&2; exit 2 ;;
esac
