#!/bin/bash
# The simulated runner's config.sh: it refuses root as actions/runner's config.sh does ("Must not run with sudo",
# exit 1). Ephemeral JIT runners are never configured with it (`run.sh --jitconfig` writes the configuration), and
# the simulator offers no registration-token flow, so anything else is refused too.
if [ "$(id -u)" -eq 0 ] && [ -z "$RUNNER_ALLOW_RUNASROOT" ]; then
  echo "Must not run with sudo"
  exit 1
fi
echo "the simulated runner is configured only by run.sh --jitconfig" >&2
exit 1
