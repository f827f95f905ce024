#!/bin/bash
# The simulated runner's run.sh, behaving as actions/runner's src/Misc/layoutroot/run.sh does (facts from its
# sources, not its code): it copies run-helper.sh.template to run-helper.sh and runs it in a loop while the helper
# asks for a restart (exit code 2). Without RUNNER_MANUALLY_TRAP_SIG it then exits 0 whatever the helper returned;
# with it (the official image sets RUNNER_MANUALLY_TRAP_SIG=1, images/Dockerfile) it forwards INT/TERM to the
# helper's process group and exits with the helper's code.
dir="$(cd -P "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"

if [[ -z "$RUNNER_MANUALLY_TRAP_SIG" ]]; then
  while :; do
    cp -f "$dir/run-helper.sh.template" "$dir/run-helper.sh"
    "$dir/run-helper.sh" "$@"
    code=$?
    if [[ $code -eq 2 ]]; then echo "Restarting runner..."; continue; fi
    echo "Exiting runner..."
    exit 0
  done
fi

set -m
trap 'kill -INT -$helper' INT TERM
while :; do
  cp -f "$dir/run-helper.sh.template" "$dir/run-helper.sh"
  "$dir/run-helper.sh" "$@" &
  helper=$!
  wait $helper
  code=$?
  if [[ $code -eq 2 ]]; then echo "Restarting runner..."; continue; fi
  echo "Exiting runner..."
  trap - INT TERM
  wait $helper 2>/dev/null
  exit $code
done
