import type { Pool } from '@runners/shared';

/*
 * What the EC2 host expects of a pool's AMI (README, "The EC2 image (AMI contract)"; docs/ami/runner-linux.pkr.hcl is a
 * starting point). The bootstrap (bootstrap.ts) runs as root from user data and starts the runner as its own user: the real
 * runner refuses root unless RUNNER_ALLOW_RUNASROOT is set (actions/runner run-helper.sh), and it writes its
 * configuration, _diag and _work beside itself, so its directory belongs to that user.
 * - Linux and macOS: the runner unpacked in /opt/actions-runner, owned by the user `runner`; bash, coreutils, sudo
 *   (root may run commands as `runner`, as stock sudoers allows), the AWS CLI (v1 or v2: `ssm get-parameters`,
 *   `ssm delete-parameter`), and `shutdown`. terraform-aws-github-runner starts its runner the same way
 *   (`sudo --preserve-env=… -u "$run_as" -- ./run.sh`, its start-runner.sh).
 * - Windows: the runner in C:\actions-runner, the AWS CLI, PowerShell; the user data runs it (run.cmd has no root
 *   check).
 */
export interface AmiContract {
  readonly runnerDir: string;
  /** The user the runner runs as (Linux, macOS). */
  readonly runnerUser?: string;
}

export const AMI_CONTRACT: Record<Pool['os'], AmiContract> = {
  linux: { runnerDir: '/opt/actions-runner', runnerUser: 'runner' },
  macos: { runnerDir: '/opt/actions-runner', runnerUser: 'runner' },
  windows: { runnerDir: 'C:\\actions-runner' },
};
