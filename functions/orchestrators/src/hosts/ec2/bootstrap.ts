import { JIT_CONFIG_ENV } from '../host';

/*
 * EC2 user data that starts a runner. The JIT config is never in user data (readable from the instance metadata by
 * anything on the host): it waits in SSM SecureStrings `<prefix>/0` … `<prefix>/<chunks-1>` that only this instance
 * may read and delete (jit-parameters.ts). The orchestrator writes them once the instance exists, so the bootstrap
 * waits for them (up to 5 minutes), joins them in name order, deletes them before the runner starts (single use),
 * runs the runner, and powers the instance off when the runner exits or anything fails — with
 * `InstanceInitiatedShutdownBehavior: terminate`, that ends the host; teardown and the reconciler are the net.
 * User data runs as root; the runner refuses root (actions/runner run-helper.sh: "Must not run interactively with
 * sudo"), so on Linux and macOS it starts as the AMI's runner user (ami-contract.ts) through sudo, with the config in
 * ACTIONS_RUNNER_INPUT_JITCONFIG (the runner's --jitconfig input, CommandSettings.cs): an argument would show in
 * every user's `ps` for as long as the job runs.
 */

export interface BootstrapInput {
  /** Prefix of this runner's JIT config parameters (names, not secrets). */
  readonly parameterPrefix: string;
  /** How many chunks the config is in (1 … 10). */
  readonly chunks: number;
  readonly region: string;
  /** Where the runner is installed in the AMI. */
  readonly runnerDir: string;
  /** The user the runner runs as (Linux, macOS; the AMI's). */
  readonly runnerUser: string;
}

// Words only: letters, digits and path punctuation (a backslash too, for Windows paths in single quotes).
const SAFE = /^[A-Za-z0-9/\\_.:-]+$/;

function checked(input: BootstrapInput): BootstrapInput {
  for (const [key, value] of Object.entries(input)) {
    // These land in a shell script: refuse anything that could be more than a word.
    if (key === 'chunks') {
      if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > 10)
        throw new Error(`bootstrap chunks must be 1 to 10, not ${String(value)}`);
    } else if (key === 'runnerUser' && value === '') {
      // Windows: no user switch.
    } else if (!SAFE.test(String(value))) throw new Error(`bootstrap ${key} has characters a shell could interpret: ${JSON.stringify(value)}`);
  }
  return input;
}

const LINUX = String.raw`#!/bin/bash
# ephemeral-runners bootstrap (Linux): wait for, read and delete the JIT config, run ONE job, power off.
set -euo pipefail
trap 'shutdown -h now' EXIT
export AWS_REGION='__REGION__' AWS_DEFAULT_REGION='__REGION__'
names=()
for i in $(seq 0 $((__CHUNKS__ - 1))); do names+=("__PREFIX__/$i"); done
jit=''
for _ in $(seq 1 60); do
  values="$(aws ssm get-parameters --names __ALL_NAMES__ --with-decryption --query 'Parameters[].[Name,Value]' --output text)" || values=''
  if [ "$(printf '%s' "$values" | grep -c .)" = '__CHUNKS__' ]; then
    jit="$(printf '%s\n' "$values" | sort | cut -f2 | tr -d '\n')"
    break
  fi
  sleep 5
done
[ -n "$jit" ]
for name in __ALL_NAMES__; do aws ssm delete-parameter --name "$name"; done
cd '__RUNNER_DIR__'
export __JIT_ENV__="$jit"
sudo --preserve-env=__JIT_ENV__ -u '__RUNNER_USER__' -- ./run.sh
`;

const WINDOWS = String.raw`<powershell>
# ephemeral-runners bootstrap (Windows): wait for, read and delete the JIT config, run ONE job, power off.
$ErrorActionPreference = 'Stop'
try {
  $env:AWS_REGION = '__REGION__'
  $names = 0..(__CHUNKS__ - 1) | ForEach-Object { "__PREFIX__/$_" }
  $jit = $null
  for ($attempt = 0; $attempt -lt 60 -and -not $jit; $attempt++) {
    $found = aws ssm get-parameters --names $names --with-decryption --output json | ConvertFrom-Json
    if ($LASTEXITCODE -eq 0 -and @($found.Parameters).Count -eq __CHUNKS__) {
      $jit = (@($found.Parameters) | Sort-Object Name | ForEach-Object { $_.Value }) -join ''
    } else { Start-Sleep -Seconds 5 }
  }
  if (-not $jit) { throw 'the JIT config never arrived' }
  foreach ($name in $names) {
    aws ssm delete-parameter --name $name
    if ($LASTEXITCODE -ne 0) { throw 'could not delete the JIT config' }
  }
  Set-Location '__RUNNER_DIR__'
  & .\run.cmd --jitconfig $jit
} finally {
  Stop-Computer -Force
}
</powershell>
`;

function render(template: string, input: BootstrapInput): string {
  const { parameterPrefix, chunks, region, runnerDir, runnerUser } = checked(input);
  return (
    template
      .replaceAll('__PREFIX__', parameterPrefix)
      .replaceAll('__CHUNKS__', String(chunks))
      .replaceAll('__REGION__', region)
      .replaceAll('__RUNNER_DIR__', runnerDir)
      .replaceAll('__RUNNER_USER__', runnerUser)
      .replaceAll('__JIT_ENV__', JIT_CONFIG_ENV)
      // Bash's "every element of the array", kept out of the template literal above.
      .replaceAll('__ALL_NAMES__', '"$' + '{names[@]}"')
  );
}

export function linuxBootstrap(input: BootstrapInput): string {
  if (!input.runnerUser) throw new Error('the Linux and macOS bootstrap starts the runner as the AMI’s runner user: none given');
  return render(LINUX, input);
}
export const windowsBootstrap = (input: BootstrapInput) => render(WINDOWS, input);
