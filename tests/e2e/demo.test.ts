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
// One file, so the runs never overlap (they share the Docker engine and .local/demo-summary.json).
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

  /*
   * Both intakes at once under the same faults (local/pools/mixed.ts): the two webhook Docker pools, and a scale-set
   * pool whose listener is killed mid-poll twice (its successor's first session refused with 409 each time) while the
   * Actions service fails 2 % of its requests. The scale-set pool's jobs come to its listener, never to the producer;
   * every job not cancelled or on a killed host runs exactly once, on either side, and nothing is left behind.
   */
  it('mixed webhook and scale-set pools under faults and listener crashes: every job exactly once, nothing left', async () => {
    const { stdout } = await promisify(execFile)('make', ['--no-print-directory', 'demo'], {
      cwd: root,
      env: { ...process.env, DEMO_JOBS: '45', DEMO_SCENARIO: 'chaos', POOLS_CONFIG: 'local/pools/mixed.ts' },
      maxBuffer: 64 * 1024 * 1024,
    });

    const summary = JSON.parse(readFileSync(resolve(root, '.local/demo-summary.json'), 'utf8')) as DemoSummary;
    expect(stdout).toMatch(/scale sets: \d+ sessions \([1-9]\d* refused with 409\), [1-9]\d* messages .* listener crashed 2 times/);
    // A third of the workload went to the scale-set pool and ran there.
    expect(summary.timeToRunnerByPool['docker-scan']?.jobs).toBeGreaterThan(5);
    expect(summary.timeToRunnerByPool['docker-linux']?.jobs).toBeGreaterThan(5);
    expect(summary.scaleSets).toMatchObject({ listenerCrashes: 2 });
    expect(summary.scaleSets!.jobMessages).toBeGreaterThan(0);
    // The scale-set jobs' records (and traces) are found by the ids made of their scale-set ids.
    expect(summary.recordIds.filter((id, i) => id !== summary.jobIds[i]).length).toBeGreaterThan(5);
    expect(summary).toMatchObject({
      jobs: 45 - summary.cancelled,
      ranExactlyOnce: 45 - summary.cancelled - summary.diedWithHost,
      ranMoreThanOnce: 0,
      neverRun: 0,
      failed: 0,
      hostsLeft: 0,
      registrationsLeft: 0,
      slotsLeft: 0,
      ok: true,
    });
    expect(summary.iam.denied).toBe(0);
  }, 600_000);
});
