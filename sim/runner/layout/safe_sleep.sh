#!/bin/bash
# As actions/runner's safe_sleep.sh: sleep N seconds, with sleep(1) where it exists.
if command -v sleep >/dev/null; then exec sleep "$1"; fi
end=$((SECONDS + $1)); while [ $SECONDS -lt $end ]; do :; done
