import type { RunnerInvocation } from '@runners/shared';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cp, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';

/*
 * One runner in one Lambda invocation. The runner writes beside itself (.runner, _diag, _work) and the image is
 * read-only, so it is copied to the work root (/tmp) first. The job gets no AWS credentials of the function and no
 * way to the Lambda runtime API (their variables are not passed on). Lambda reuses an execution environment for the
 * next invocation, /tmp and leftover processes included (Lambda developer guide, "execution environment"), so when
 * the runner is done every process it left is killed and the work root is emptied: the next job sees nothing of
 * this one. The runner is stopped before Lambda's own timeout would kill everything, so the clean-up still runs.
 */

export interface RunRunnerPorts {
  /** The runner as installed in the image (run.sh inside). */
  readonly runnerDir: string;
  /** Writable: /tmp on Lambda; emptied after the job. */
  readonly workRoot: string;
  /** Milliseconds left in this invocation. */
  readonly remainingMs: () => number;
  readonly log: (message: string, details?: Record<string, unknown>) => void;
}

export interface RunOutcome {
  readonly outcome: 'finished';
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stoppedForTimeout: boolean;
  /** Processes the job left running, killed after it. */
  readonly leftoverProcesses: number;
}

/** Time kept for clean-up after the runner is told to stop. */
const STOP_MARGIN_MS = 20_000;
const KILL_AFTER_MS = 10_000;
/** Marks every process of this run (inherited through the environment), so that daemons the job started are found. */
const RUN_MARKER = 'EPHEMERAL_RUNNERS_RUN';

/**
 * What the job may see of the function's environment: nothing of its credentials (AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, container credentials) nor of the runtime API through which it could
 * answer or fail the invocation.
 */
export function jobEnvironment(env: NodeJS.ProcessEnv): Record<string, string> {
  const hidden =
    /^(AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|AWS_SECURITY_TOKEN|AWS_CONTAINER_.*|AWS_LAMBDA_RUNTIME_API|AWS_PROFILE|AWS_SHARED_CREDENTIALS_FILE|AWS_CONFIG_FILE|AWS_WEB_IDENTITY_TOKEN_FILE|AWS_ROLE_ARN)$/;
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined && !hidden.test(entry[0])));
}

export async function runRunner(invocation: RunnerInvocation, ports: RunRunnerPorts): Promise<RunOutcome> {
  const { runnerName } = invocation;
  const run = randomUUID();
  const dir = join(ports.workRoot, runnerName);
  try {
    await cp(ports.runnerDir, dir, { recursive: true });
    ports.log('runner starting', { runnerName, jobId: invocation.jobId });
    const child = spawn(join(dir, 'run.sh'), ['--jitconfig', invocation.encodedJitConfig], {
      cwd: dir,
      // Its own process group: everything it starts can be stopped together.
      detached: true,
      env: { ...jobEnvironment(process.env), HOME: ports.workRoot, [RUN_MARKER]: run },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    let stoppedForTimeout = false;
    const stopTimer = setTimeout(
      () => {
        stoppedForTimeout = true;
        signalGroup(child.pid, 'SIGTERM');
        setTimeout(() => signalGroup(child.pid, 'SIGKILL'), KILL_AFTER_MS).unref();
      },
      Math.max(0, ports.remainingMs() - STOP_MARGIN_MS),
    );
    const [exitCode, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code, sig) => resolve([code, sig]));
    }).finally(() => clearTimeout(stopTimer));
    signalGroup(child.pid, 'SIGKILL');
    const leftoverProcesses = await killMarked(run);
    ports.log('runner exited', { runnerName, exitCode, signal, stoppedForTimeout, leftoverProcesses });
    return { outcome: 'finished', exitCode, signal, stoppedForTimeout, leftoverProcesses };
  } finally {
    await emptyDirectory(ports.workRoot);
  }
}

function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone
  }
}

/** Kills every process that carries this run's marker (daemons that left the process group with setsid). */
async function killMarked(run: string): Promise<number> {
  let killed = 0;
  const needle = `${RUN_MARKER}=${run}`;
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const environ = await readFile(`/proc/${entry}/environ`, 'latin1').catch(() => '');
    if (!environ.split('\0').includes(needle)) continue;
    try {
      process.kill(Number(entry), 'SIGKILL');
      killed++;
    } catch {
      // gone meanwhile
    }
  }
  return killed;
}

async function emptyDirectory(dir: string): Promise<void> {
  for (const entry of await readdir(dir).catch(() => [] as string[])) await rm(join(dir, entry), { recursive: true, force: true });
}
