#!/usr/bin/env bash
# Installs the Node.js that Lambda runs (`nodejs22.x`; the exact version is in .nvmrc) into .tools/node, from the npm
# registry's `node-linux-<arch>` package (the official binary; npm checks the tarball against the registry's
# integrity hash). The Makefile puts .tools/node/bin first on PATH, so tests, the local stack and the benches run on
# the Lambda runtime's Node major, not on whatever the machine has. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
version="$(tr -d ' \n' < .nvmrc)"
target=.tools/node
if [ -x "$target/bin/node" ] && [ "$("$target/bin/node" --version)" = "v$version" ]; then exit 0; fi
case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "no node-linux package for $(uname -m)" >&2; exit 1 ;;
esac
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
tarball="$(cd "$work" && npm pack --silent "node-linux-$arch@$version")"
tar -xzf "$work/$tarball" -C "$work"
rm -rf "$target"
mkdir -p .tools
mv "$work/package" "$target"
echo "node $("$target/bin/node" --version) in $target"
