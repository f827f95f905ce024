#!/bin/sh
# Entry point of the simulated runner image, named and called like the real runner's: run.sh --jitconfig <encoded>
exec /usr/bin/node /app/runner.mjs "$@"
