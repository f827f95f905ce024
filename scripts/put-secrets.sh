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
