#!/usr/bin/env bash
# The base of the host images (the runner image, the EC2 instance): a real Debian 12 root filesystem made with
# debootstrap from Debian's archive (no container registry is reachable here), `docker import`ed. It carries what the
# images need of a distribution: bash and coreutils, sudo (the EC2 bootstrap starts the runner as its user, as
# terraform-aws-github-runner's start-runner.sh does), ca-certificates, procps, and Python with venv (the EC2 instance's
# init and its AWS CLI). Usage: debian-base.sh IMAGE LABEL=VALUE
set -euo pipefail
image="$1" label="$2"
command -v debootstrap >/dev/null || { apt-get update -qq && apt-get install -y -qq debootstrap >/dev/null; }
root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT
debootstrap --variant=minbase --include=sudo,ca-certificates,procps,python3-venv bookworm "$root" http://deb.debian.org/debian >/dev/null
# What an image does not need: the package caches and lists, documentation, locales.
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/locale/*
tar -C "$root" -c . | docker import --change "LABEL $label" --change 'CMD ["/bin/bash"]' - "$image" >/dev/null
