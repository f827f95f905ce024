#!/usr/bin/env bash
# `make ci-deploy`: apply the synthesized Terraform JSON (cdktf.out/stacks/runners) with terraform itself — cdktf
# only synthesizes — then put the GitHub App secrets, then print the outputs. With Lambda pools, the runner image is
# built and pushed between a first apply of its ECR repository and the full apply (a function needs its image).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${AWS_REGION:?set AWS_REGION (see .env.example)}"
prefix="${STACK_PREFIX:-ephemeral-runners}"
tf() { terraform -chdir=cdktf.out/stacks/runners "$@"; }

tf init -input=false
repository=$(node -e "const r=require('./cdktf.out/stacks/runners/cdk.tf.json').resource.aws_ecr_repository;console.log(r?Object.keys(r)[0]:'')")
if [[ -n "$repository" ]]; then
  tf apply -input=false -auto-approve -target="aws_ecr_repository.${repository}"
  url=$(aws ecr describe-repositories --region "$AWS_REGION" --repository-names "${prefix}-runner-lambda" --query 'repositories[0].repositoryUri' --output text)
  tag="${RUNNER_IMAGE_TAG:-latest}"
  docker build -f functions/runner-lambda/Dockerfile ${RUNNER_VERSION:+--build-arg RUNNER_VERSION="$RUNNER_VERSION"} -t "${url}:${tag}" .
  aws ecr get-login-password --region "$AWS_REGION" | docker login --username AWS --password-stdin "${url%%/*}"
  docker push "${url}:${tag}"
fi
tf apply -input=false -auto-approve
bash scripts/put-secrets.sh
tf output
echo
echo "Paste webhook_url into the GitHub App (Webhook URL), with the same secret as GITHUB_WEBHOOK_SECRET."
