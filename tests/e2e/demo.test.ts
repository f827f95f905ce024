import { describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { DemoSummary } from '../../local/demo';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/*
 * `make demo` end to end: 50 jobs across the two Docker pools (different labels) through the GitHub simulator,
 * webhooks, producer, dispatch, orchestrator and real runner containers. It exits 0 only if every job ran exactly
 * once and no container or registration was left behind; the summary says the same in numbers.
 */
// One file, so the two runs never overlap (they share the Docker engine and .local/demo-summary.json).
describe('make demo', () => {
  it('runs 50 jobs across two Docker pools, each exactly once, and leaves nothing behind', async () => {
    const { stdout } = await promisify(execFile)('make', ['--no-print-directory', 'demo'], {
      cwd: root,
      env: { ...process.env, DEMO_JOBS: '50' },
      maxBuffer: 64 * 1024 * 1024,
    });

    const summary = JSON.parse(readFileSync(resolve(root, '.local/demo-summary.json'), 'utf8')) as DemoSummary;
    expect(stdout).toContain('50/50 jobs ran exactly once');
    expect(summary).toMatchObject({ jobs: 50, ranExactlyOnce: 50, neverRun: 0, failed: 0, hostsLeft: 0, registrationsLeft: 0, ok: true });
    // Under enforced IAM: every function's calls were evaluated against its synthesized role, none refused.
    expect(summary.iam.evaluated).toBeGreaterThan(0);
    expect(summary.iam.denied).toBe(0);
    expect(summary.runnersPerJob).toBeLessThanOrEqual(1.2);
  }, 400_000);

  /*
   * `make demo` with DEMO_SCENARIO=chaos: the whole local system under faults — 10 % duplicated, 5 % reordered and 2 %
   * dropped webhooks (the reconciler redelivers those), 5 % of container creations failing at the Docker engine, GitHub
   * 5xx and secondary rate limits, 3 % of jobs cancelled (while queued, while their runner launches, while running),
   * 2 % of runner hosts killed mid-job, and the Docker orchestrator killed once between "JIT config generated" and
   * "container created". Every job that was neither cancelled nor on a killed host must run exactly once, the killed
   * ones fail as GitHub fails them, and no container or registration may be left.
   */
  it('runs every job that was not cancelled exactly once under faults, and leaves nothing behind', async () => {
    const { stdout } = await promisify(execFile)('make', ['--no-print-directory', 'demo'], {
      cwd: root,
      env: { ...process.env, DEMO_JOBS: '200', DEMO_SCENARIO: 'chaos' },
      maxBuffer: 64 * 1024 * 1024,
    });

    const summary = JSON.parse(readFileSync(resolve(root, '.local/demo-summary.json'), 'utf8')) as DemoSummary;
    expect(stdout).toMatch(/injected by the chaos scenario: \d+ container creations failed, 1 orchestrator crash\(es\) between JIT config and host/);
    expect(stdout).toMatch(
      /injected by the simulator: webhooks [1-9]\d* dropped \(lost-for-good included\), [1-9]\d* duplicated, [1-9]\d* reordered; GitHub API [1-9]\d* errors/,
    );
    expect(summary.cancelledWhile).toEqual({ queued: expect.any(Number), launching: expect.any(Number), running: expect.any(Number) });
    expect(Object.values(summary.cancelledWhile).every((n) => n > 0)).toBe(true);
    expect(summary.diedWithHost).toBeGreaterThan(0);
    expect(summary).toMatchObject({
      jobs: 200 - summary.cancelled,
      ranExactlyOnce: 200 - summary.cancelled - summary.diedWithHost,
      neverRun: 0,
      failed: 0,
      hostsLeft: 0,
      registrationsLeft: 0,
      leftovers: [],
      ok: true,
    });
    // The reconciler's passes (redelivery, lost jobs, leftover registrations) ran too, all within their roles.
    expect(summary.iam.denied).toBe(0);
    expect(summary.runnersPerJob).toBeLessThanOrEqual(1.3);
  }, 800_000);
});
