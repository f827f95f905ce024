#!/usr/bin/env bash
# Writes the GitHub App id, private key and webhook secret as SSM SecureStrings (Terraform creates and reads none of
# them, so no secret is in its state), idempotently. Values go through files (file://), never on a command line; unset ones are left alone.
set -euo pipefail
: "${AWS_REGION:?set AWS_REGION}"
prefix="${STACK_PREFIX:-ephemeral-runners}"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
chmod 700 "$scratch"

put() { # name, file
  # Under the stack's own key, which only the roles that read the secrets may decrypt with (stacks/secrets.ts).
  aws ssm put-parameter --region "$AWS_REGION" --name "$1" --type SecureString --key-id "alias/${prefix}-secrets" --tier Standard --overwrite --value "file://$2" >/dev/null
  echo "set $1"
}
if [[ -n "${GITHUB_APP_ID:-}" ]]; then
  printf '%s' "$GITHUB_APP_ID" >"$scratch/app-id"
  put "/${prefix}/github/app-id" "$scratch/app-id"
fi
if [[ -n "${GITHUB_APP_PRIVATE_KEY_FILE:-}" ]]; then
  [[ -r "$GITHUB_APP_PRIVATE_KEY_FILE" ]] || { echo "GITHUB_APP_PRIVATE_KEY_FILE=$GITHUB_APP_PRIVATE_KEY_FILE is not readable" >&2; exit 1; }
  put "/${prefix}/github/private-key" "$GITHUB_APP_PRIVATE_KEY_FILE"
fi
if [[ -n "${GITHUB_WEBHOOK_SECRET:-}" ]]; then
  printf '%s' "$GITHUB_WEBHOOK_SECRET" >"$scratch/webhook-secret"
  put "/${prefix}/github/webhook-secret" "$scratch/webhook-secret"
fi
# The other GitHub Apps of the pools config (github.apps), by name: GITHUB_APP_<NAME>_ID and
# GITHUB_APP_<NAME>_PRIVATE_KEY_FILE, NAME in capitals with "_" for "-" (App "bulk-2": GITHUB_APP_BULK_2_ID).
for var in $(compgen -v | grep -E '^GITHUB_APP_[A-Z0-9_]+_ID$' || true); do
  upper="${var#GITHUB_APP_}"
  upper="${upper%_ID}"
  name=$(printf '%s' "$upper" | tr 'A-Z_' 'a-z-')
  printf '%s' "${!var}" >"$scratch/app-id-$name"
  put "/${prefix}/github/apps/${name}/app-id" "$scratch/app-id-$name"
  key_var="GITHUB_APP_${upper}_PRIVATE_KEY_FILE"
  if [[ -n "${!key_var:-}" ]]; then
    [[ -r "${!key_var}" ]] || { echo "$key_var=${!key_var} is not readable" >&2; exit 1; }
    put "/${prefix}/github/apps/${name}/private-key" "${!key_var}"
  fi
done
