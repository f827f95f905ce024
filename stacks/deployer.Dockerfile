# The deployer: Node (cdktf synth), terraform (plan/apply), the AWS CLI, and the Docker CLI (runner Lambda image).
#   docker compose run --rm deployer make ci-deploy
FROM node:22-bookworm
ARG TERRAFORM_VERSION=1.14.0
RUN apt-get update \
 && apt-get install -y --no-install-recommends awscli docker.io make unzip ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && curl -fsSL "https://releases.hashicorp.com/terraform/${TERRAFORM_VERSION}/terraform_${TERRAFORM_VERSION}_linux_$(dpkg --print-architecture).zip" -o /tmp/terraform.zip \
 && unzip /tmp/terraform.zip terraform -d /usr/local/bin \
 && rm /tmp/terraform.zip \
 && terraform version
WORKDIR /work
