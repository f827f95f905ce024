/*
 * EC2 user data that starts a runner. The JIT config is never in user data (readable from the instance metadata by
 * anything on the host): it waits in an SSM SecureString named for the runner, which the bootstrap reads and deletes
 * before it starts the runner. The instance powers itself off when the runner exits, and on any failure before —
 * with `InstanceInitiatedShutdownBehavior: terminate`, that ends the host; teardown and the reconciler are the net.
 */

export interface BootstrapInput {
  /** SSM parameter holding this runner's JIT config (a name, not a secret). */
  readonly parameterName: string;
  readonly region: string;
  /** Where the runner is installed in the AMI. */
  readonly runnerDir: string;
}

// Words only: letters, digits and path punctuation (a backslash too, for Windows paths in single quotes).
const SAFE = /^[A-Za-z0-9/\\_.:-]+$/;

function checked(input: BootstrapInput): BootstrapInput {
  for (const [key, value] of Object.entries(input)) {
    // These land in a shell script: refuse anything that could be more than a word.
    if (!SAFE.test(value)) throw new Error(`bootstrap ${key} has characters a shell could interpret: ${JSON.stringify(value)}`);
  }
  return input;
}

const LINUX = String.raw`#!/bin/bash
# ephemeral-runners bootstrap (Linux): read and delete the JIT config, run ONE job, power off.
set -euo pipefail
trap 'shutdown -h now' EXIT
export AWS_REGION='__REGION__' AWS_DEFAULT_REGION='__REGION__'
jit="$(aws ssm get-parameter --name '__PARAMETER__' --with-decryption --query Parameter.Value --output text)"
aws ssm delete-parameter --name '__PARAMETER__'
cd '__RUNNER_DIR__'
./run.sh --jitconfig "$jit"
`;

const WINDOWS = String.raw`<powershell>
# ephemeral-runners bootstrap (Windows): read and delete the JIT config, run ONE job, power off.
$ErrorActionPreference = 'Stop'
try {
  $env:AWS_REGION = '__REGION__'
  $jit = aws ssm get-parameter --name '__PARAMETER__' --with-decryption --query Parameter.Value --output text
  if ($LASTEXITCODE -ne 0) { throw 'could not read the JIT config' }
  aws ssm delete-parameter --name '__PARAMETER__'
  Set-Location '__RUNNER_DIR__'
  & .\run.cmd --jitconfig $jit
} finally {
  Stop-Computer -Force
}
</powershell>
`;

function render(template: string, input: BootstrapInput): string {
  const { parameterName, region, runnerDir } = checked(input);
  return template.replaceAll('__PARAMETER__', parameterName).replaceAll('__REGION__', region).replaceAll('__RUNNER_DIR__', runnerDir);
}

export const linuxBootstrap = (input: BootstrapInput) => render(LINUX, input);
export const windowsBootstrap = (input: BootstrapInput) => render(WINDOWS, input);
