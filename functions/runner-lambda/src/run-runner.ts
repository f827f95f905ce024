import { JIT_STARTED, type JitParameters, type RunnerInvocation } from '@runners/shared';
import { spawn } from 'node:child_process';
import { cp, rm } from 'node:fs/promises';
import { join } from 'node:path';

/*
 * One runner in one Lambda invocation. The runner writes beside itself (.runner, _diag, _work) and the image is
 * read-only, so it is copied to /tmp first. The JIT config is read from its SSM parameter and replaced by STARTED
 * (a duplicate invocation then ends at once); the parameter is deleted when the runner exits. The runner is stopped
 * before Lambda's own timeout would kill everything, so the clean-up still runs.
 */

export interface RunRunnerPorts {
  readonly jit: JitParameters;
  /** The runner as installed in the image (run.sh inside). */
  readonly runnerDir: string;
  /** Writable: /tmp on Lambda. */
  readonly workRoot: string;
  /** Milliseconds left in this invocation. */
  readonly remainingMs: () => number;
  readonly log: (message: string, details?: Record<string, unknown>) => void;
}

export type RunOutcome =
  | { readonly outcome: 'finished'; readonly exitCode: number | null; readonly signal: NodeJS.Signals | null; readonly stoppedForTimeout: boolean }
  /** The config was taken by an earlier invocation of the same runner. */
  | { readonly outcome: 'spent' }
  /** Torn down before it started: nothing to run. */
  | { readonly outcome: 'absent' };

/** Time kept for clean-up after the runner is told to stop. */
const STOP_MARGIN_MS = 20_000;
const KILL_AFTER_MS = 10_000;

export async function runRunner(invocation: RunnerInvocation, ports: RunRunnerPorts): Promise<RunOutcome> {
  const { runnerName } = invocation;
  const config = await ports.jit.read(runnerName);
  if (config === undefined) return { outcome: 'absent' };
  if (config === JIT_STARTED) return { outcome: 'spent' };
  await ports.jit.markStarted(runnerName, { pool: invocation.pool, jobId: invocation.jobId });

  const dir = join(ports.workRoot, runnerName);
  try {
    await cp(ports.runnerDir, dir, { recursive: true });
    ports.log('runner starting', { runnerName, jobId: invocation.jobId });
    const child = spawn(join(dir, 'run.sh'), ['--jitconfig', config], {
      cwd: dir,
      env: { ...process.env, HOME: ports.workRoot, RUNNER_ALLOW_RUNASROOT: '1' },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    let stoppedForTimeout = false;
    const stopTimer = setTimeout(() => {
      stoppedForTimeout = true;
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS).unref();
    }, Math.max(0, ports.remainingMs() - STOP_MARGIN_MS));
    const [exitCode, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code, sig) => resolve([code, sig]));
    }).finally(() => clearTimeout(stopTimer));
    ports.log('runner exited', { runnerName, exitCode, signal, stoppedForTimeout });
    return { outcome: 'finished', exitCode, signal, stoppedForTimeout };
  } finally {
    await ports.jit.delete(runnerName);
    await rm(dir, { recursive: true, force: true });
  }
}
