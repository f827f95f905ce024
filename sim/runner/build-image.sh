#!/usr/bin/env bash
# Builds the simulated runner image offline (no registry): a root filesystem with this machine's node binary and
# the libraries it links, a POSIX shell, and the runner, `docker import`ed. Usage: build-image.sh [IMAGE]
set -euo pipefail
image="${1:-ephemeral-runners/sim-runner:latest}"
here="$(cd "$(dirname "$0")" && pwd)"
root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT

copy_with_libs() {
  local binary="$1" target="$2"
  mkdir -p "$root$(dirname "$target")"
  cp -L "$binary" "$root$target"
  for lib in $(ldd "$binary" | grep -o '/[^ ]*'); do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
}

copy_with_libs "$(readlink -f "$(command -v node)")" /usr/bin/node
copy_with_libs "$(readlink -f /bin/sh)" /bin/sh
mkdir -p "$root/app" "$root/tmp" "$root/etc"
chmod 1777 "$root/tmp"
cp "$here/runner.mjs" "$here/run.sh" "$root/app/"
# DNS and user lookups, for what node may ask of them.
cp /etc/hosts /etc/nsswitch.conf "$root/etc/" 2>/dev/null || true
# The label lets ensureSimRunnerImage (image.ts) rebuild an image whose runner is older than these files.
source_hash="$(cat "$here/runner.mjs" "$here/run.sh" "$0" | sha256sum | cut -c1-16)"
tar -C "$root" -c . | docker import --change 'ENTRYPOINT ["/app/run.sh"]' --change 'WORKDIR /app' --change "LABEL ephemeral-runners.sim-runner.source=$source_hash" - "$image" >/dev/null
echo "built $image ($(docker image inspect --format '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1/1e6}'))"
