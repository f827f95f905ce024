#!/usr/bin/env bash
# Makes sure a Docker engine answers: installs Debian's docker.io if missing and starts dockerd in the background
# (no iptables, no bridge: containers use the host network, which is what the runner containers need here).
set -euo pipefail
if docker info >/dev/null 2>&1; then exit 0; fi
if ! command -v dockerd >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null
fi
log="${TMPDIR:-/tmp}/dockerd.log"
nohup dockerd --iptables=false --bridge=none >"$log" 2>&1 &
for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then echo "dockerd is up ($(docker version --format '{{.Server.Version}}'))"; exit 0; fi
  sleep 1
done
echo "dockerd did not start; see $log" >&2
tail -20 "$log" >&2
exit 1
