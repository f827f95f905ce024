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
  # Tags are immutable in the repository: one per commit (main.ts synthesizes the same default).
  tag="${RUNNER_IMAGE_TAG:-$(git rev-parse --short=12 HEAD)}"
  : "${RUNNER_SHA256:?set RUNNER_SHA256 to the runner tarball's SHA-256 (actions/runner release notes); the image build verifies it}"
  if aws ecr describe-images --region "$AWS_REGION" --repository-name "${prefix}-runner-lambda" --image-ids imageTag="$tag" >/dev/null 2>&1; then
    echo "runner image ${tag} is already pushed"
  else
    docker build -f functions/runner-lambda/Dockerfile ${RUNNER_VERSION:+--build-arg RUNNER_VERSION="$RUNNER_VERSION"} --build-arg RUNNER_SHA256="$RUNNER_SHA256" -t "${url}:${tag}" .
    aws ecr get-login-password --region "$AWS_REGION" | docker login --username AWS --password-stdin "${url%%/*}"
    docker push "${url}:${tag}"
  fi
fi
tf apply -input=false -auto-approve
bash scripts/put-secrets.sh
tf output
echo
echo "Paste webhook_url into the GitHub App (Webhook URL), with the same secret as GITHUB_WEBHOOK_SECRET."
