# A starting point for an EC2 runner AMI that meets the AMI contract (README, "The EC2 image (AMI contract)";
# functions/orchestrators/src/hosts/ec2/ami-contract.ts): Amazon Linux 2023, the actions runner unpacked in
# /opt/actions-runner and owned by the user `runner`, its dependencies, the AWS CLI, sudo and shutdown (both in the
# base image). Build it in your account: packer init . && packer build -var runner_version=… -var runner_sha256=… .
# Checked here for HCL syntax and formatting only (hclfmt, `make lint`): Packer is not on the Go module proxy and no
# AWS account is reachable, so neither `packer validate` nor a build ran.
packer {
  required_plugins {
    amazon = {
      source  = "github.com/hashicorp/amazon"
      version = ">= 1.3.0"
    }
  }
}

variable "region" {
  type    = string
  default = "us-east-1"
}

variable "arch" {
  type        = string
  default     = "x64"
  description = "x64 or arm64: the pool's arch (the instance types must match it)."
}

variable "runner_version" {
  type        = string
  description = "actions/runner release, without the v (e.g. 2.330.0)."
}

variable "runner_sha256" {
  type        = string
  description = "SHA-256 of actions-runner-linux-<arch>-<version>.tar.gz, from the release notes."
}

locals {
  ami_arch      = var.arch == "arm64" ? "arm64" : "x86_64"
  instance_type = var.arch == "arm64" ? "m7g.large" : "m7i.large"
  tarball       = "actions-runner-linux-${var.arch}-${var.runner_version}.tar.gz"
}

source "amazon-ebs" "runner" {
  region        = var.region
  instance_type = local.instance_type
  ssh_username  = "ec2-user"
  ami_name      = "ephemeral-runners-linux-${var.arch}-${var.runner_version}-{{timestamp}}"
  source_ami_filter {
    filters = {
      name         = "al2023-ami-2023.*-kernel-*-${local.ami_arch}"
      architecture = local.ami_arch
    }
    owners      = ["amazon"]
    most_recent = true
  }
  # The instances the EC2 host launches require IMDSv2; the image is built the same way.
  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }
}

build {
  sources = ["source.amazon-ebs.runner"]

  provisioner "shell" {
    inline = [
      "set -euo pipefail",
      # The runner's own dependencies (the release's bin/installdependencies.sh lists them), git for checkouts.
      "sudo dnf install -y --allowerasing libicu krb5-libs openssl-libs zlib tar gzip git awscli-2",
      "sudo useradd --create-home --shell /bin/bash runner",
      "sudo mkdir -p /opt/actions-runner",
      "curl -fsSL -o /tmp/runner.tar.gz https://github.com/actions/runner/releases/download/v${var.runner_version}/${local.tarball}",
      "echo '${var.runner_sha256}  /tmp/runner.tar.gz' | sha256sum -c -",
      "sudo tar -xzf /tmp/runner.tar.gz -C /opt/actions-runner",
      # The runner writes .runner, .credentials, _diag and _work beside itself: its directory is its user's.
      "sudo chown -R runner:runner /opt/actions-runner",
      "rm -f /tmp/runner.tar.gz",
    ]
  }
}
