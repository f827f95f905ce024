# The deployer: Node (cdktf synth), terraform (plan/apply), the AWS CLI, and the Docker CLI (runner Lambda image).
#   docker compose run --rm deployer make ci-deploy
FROM node:22-bookworm
ARG TERRAFORM_VERSION=1.14.0
# HashiCorp's release signing key (www.hashicorp.com/security): the SHA256SUMS file must carry its signature, and the
# zip must match its line there — a download that was tampered with fails the build.
ARG HASHICORP_KEY_FINGERPRINT=C874011F0AB405110D02105534365D9472D7468F
RUN apt-get update \
 && apt-get install -y --no-install-recommends awscli docker.io make unzip ca-certificates curl gnupg \
 && rm -rf /var/lib/apt/lists/* \
 && cd /tmp \
 && base="https://releases.hashicorp.com/terraform/${TERRAFORM_VERSION}" zip="terraform_${TERRAFORM_VERSION}_linux_$(dpkg --print-architecture).zip" \
 && curl -fsSL "https://www.hashicorp.com/.well-known/pgp-key.txt" | gpg --batch --import \
 && gpg --batch --with-colons --fingerprint | grep -q "^fpr:::::::::${HASHICORP_KEY_FINGERPRINT}:" \
 && curl -fsSLO "${base}/${zip}" -fsSLO "${base}/terraform_${TERRAFORM_VERSION}_SHA256SUMS" -fsSLO "${base}/terraform_${TERRAFORM_VERSION}_SHA256SUMS.sig" \
 && gpg --batch --verify "terraform_${TERRAFORM_VERSION}_SHA256SUMS.sig" "terraform_${TERRAFORM_VERSION}_SHA256SUMS" \
 && grep " ${zip}\$" "terraform_${TERRAFORM_VERSION}_SHA256SUMS" | sha256sum -c - \
 && unzip "${zip}" terraform -d /usr/local/bin \
 && rm -f /tmp/terraform_* \
 && terraform version
WORKDIR /work
