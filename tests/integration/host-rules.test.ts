import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parseWorkflowJobEvent, warmJobId } from '@runners/shared';
import { DynamoDbJobStore } from '@runners/shared/dynamodb';
import { DEFAULT_LIMITS } from '@runners/orchestrators';
import { DEFAULT_HOST_RULE_LIMITS, GITHUB_SELF_HOSTED_JOB_LIMIT_MS, applyHostRules, type HostRulePorts } from '@runners/orchestrators';
import { SIM_RUNNER_IMAGE } from '../../sim/runner/image';
import { getJob } from '../helpers/aws';
import { launchMessage, orchestratorHarness } from '../helpers/orchestrator-harness';
import { testPoolsConfig, testPoolsInput } from '../helpers/pools';
import { ORG, simControl, waitUntil } from '../helpers/simulator';
import { examplePayload } from '../helpers/webhooks';
import { encodeJitConfig } from '../../sim/jit-config';

/** A JIT config in GitHub's format whose runner can never reach GitHub: it stays offline, retrying. */
const unreachableJitConfig = (runnerName: string) => encodeJitConfig({ url: 'http://127.0.0.1:9', runnerId: 1, runnerName, secret: 'x', runnerGroupId: 1 });

/*
 * The orchestrators' host rules on real parts: job records on moto, GitHub as the simulator, runner containers on the
 * real dockerd. Its clock is moved past the boot timeout instead of waiting for it.
 */

const input = testPoolsInput();
// Warm settings with no idle runner wanted: any warm runner is surplus once idle for 10 minutes.
const config = testPoolsConfig({
  pools: [
    { ...input.pools[0]!, docker: { image: SIM_RUNNER_IMAGE }, warm: { owner: 'octo-org', minIdle: 0, idleTimeoutMinutes: 10 } },
    ...input.pools.slice(1),
  ] as typeof input.pools,
});
const POOL = 'docker-linux';
type Harness = Awaited<ReturnType<typeof orchestratorHarness>>;

describe('host rules on moto + the simulator + dockerd', () => {
  let h: Harness;
  let clock = Date.now();
  const ports = (): HostRulePorts => ({
    config,
    host: h.host,
    github: h.client,
    launches: h.launches,
    slots: h.dispatch,
    now: () => clock,
    sleep: async () => undefined,
    limits: DEFAULT_LIMITS,
    hostRuleLimits: DEFAULT_HOST_RULE_LIMITS,
  });
  const record = async (action: 'queued' | 'completed', jobId: number, runnerName: string | null = null) => {
    const payload = examplePayload(action, {
      jobId,
      labels: ['docker'],
      repo: 'octo-org/app',
      runnerName,
      ...(action === 'completed' ? { conclusion: 'success' } : {}),
    });
    payload.installation = { id: await h.client.installationId(ORG) };
    await new DynamoDbJobStore(h.dynamodb, h.tableName).recordWebhook(parseWorkflowJobEvent(payload, `d-${jobId}-${action}`), { pool: POOL }, new Date());
  };
  const dispatched = async (jobId: number) => {
    await record('queued', jobId);
    await h.dispatch.markDispatched(jobId, { pool: POOL, runnerName: `gha-${POOL}-${jobId}-1`, attempt: 1, at: new Date() });
  };
  const containers = async () => (await h.host.list()).map((c) => c.runnerName).sort();

  beforeAll(async () => {
    h = await orchestratorHarness({ config });
  }, 120_000);
  afterAll(async () => {
    await h.iam.stop();
    for (const container of await h.host.list()) await h.host.delete(container.runnerName);
    await h.sim.stop();
  });

  it('removes a host whose job record is gone or names another runner; keeps the live ones', async () => {
    clock = Date.now();
    const spec = (runnerName: string, jobId: number) => ({ runnerName, pool: config.pools[0]!, jobId, encodedJitConfig: unreachableJitConfig(runnerName) });
    // No record at all (expired days ago): leaked.
    await h.host.create(spec(`gha-${POOL}-80000001-1`, 80_000_001));
    // The record names attempt 2: attempt 1's host is leaked.
    await dispatched(80_000_002);
    await h.dispatch.requeue(80_000_002, { pool: POOL, runnerName: `gha-${POOL}-80000002-1`, attempt: 1, at: new Date() });
    await h.dispatch.markDispatched(80_000_002, { pool: POOL, runnerName: `gha-${POOL}-80000002-2`, attempt: 2, at: new Date() });
    await h.host.create(spec(`gha-${POOL}-80000002-1`, 80_000_002));
    await h.host.create(spec(`gha-${POOL}-80000002-2`, 80_000_002));
    // Past the grace period of records just written.
    clock = Date.now() + DEFAULT_HOST_RULE_LIMITS.graceMs + 1_000;

    const report = await applyHostRules('docker', ports());

    expect(report).toMatchObject({ leakedHostsRemoved: 2, busyRunnersKept: 0 });
    expect(await containers()).toEqual([`gha-${POOL}-80000002-2`]);
    // Done with it: the job completes on its runner, the host goes.
    await record('completed', 80_000_002, `gha-${POOL}-80000002-2`);
    await h.host.delete(`gha-${POOL}-80000002-2`);
  }, 60_000);

  it('never tears down a busy runner, even when the job it was launched for has finished', async () => {
    clock = Date.now();
    const jobId = 80_000_003;
    await dispatched(jobId);
    // A long job on GitHub that the runner takes (GitHub's assignment: any idle runner with matching labels).
    const { jobs } = await simControl<{ jobs: { id: number }[] }>(h.sim, 'POST', '/_sim/runs', {
      owner: 'octo-org',
      repo: 'app',
      jobs: [{ labels: ['docker'], durationMs: 20_000 }],
    });
    expect(await h.invoke([launchMessage(POOL, jobId)])).toEqual({ batchItemFailures: [] });
    await waitUntil('the runner to take the long job', () => h.sim.model.jobs.get(jobs[0]!.id)?.status === 'in_progress', 20_000);
    // The job it was launched for ran elsewhere and finished: its record no longer wants this runner (a spare, as far
    // as the record knows: the in_progress of the job it took was lost), and past the boot timeout it is asked to go.
    await record('completed', jobId, 'some-other-runner');
    clock = Date.now() + DEFAULT_HOST_RULE_LIMITS.bootTimeoutMs.docker + 1_000;

    const report = await applyHostRules('docker', ports());

    expect(report).toMatchObject({ busyRunnersKept: 1, leakedHostsRemoved: 0 });
    expect(await containers()).toContain(`gha-${POOL}-${jobId}-1`);
    expect([...h.sim.model.runners.values()].map((r) => r.name)).toContain(`gha-${POOL}-${jobId}-1`);
    await waitUntil('the long job to finish', () => h.sim.model.jobs.get(jobs[0]!.id)?.status === 'completed', 30_000);
  }, 90_000);

  it('requeues a launch that never produced a runner past the boot timeout, removing what it left', async () => {
    clock = Date.now();
    const lost = 80_000_004; // its launch message was lost: dispatched, nothing else
    const dead = 80_000_005; // its host came up but the runner never connected
    await dispatched(lost);
    await dispatched(dead);
    const installationId = await h.client.installationId(ORG);
    const runnerName = `gha-${POOL}-${dead}-1`;
    const { runnerId } = await h.client.generateJitConfig(installationId, ORG, { name: runnerName, labels: ['self-hosted', 'docker'] });
    const attempt = { jobId: dead, runnerName, claimedAtMs: clock };
    await h.launches.claim(attempt, clock - 1);
    // A runner that cannot reach GitHub (wrong URL): it stays offline, its container keeps retrying.
    const host = await h.host.create({ runnerName, pool: config.pools[0]!, jobId: dead, encodedJitConfig: unreachableJitConfig(runnerName) });
    expect(await h.launches.recordHost(attempt, runnerId, host.id, clock)).toBe(true);
    const early = await applyHostRules('docker', ports());
    expect(early.stuckLaunchesRequeued).toBe(0);

    clock = Date.now() + DEFAULT_HOST_RULE_LIMITS.bootTimeoutMs.docker + 1_000;
    const report = await applyHostRules('docker', ports());

    expect(report.stuckLaunchesRequeued).toBe(2);
    for (const jobId of [lost, dead]) expect(await getJob(h.dynamodb, h.tableName, jobId)).toMatchObject({ state: 'queued', launchFailures: 1 });
    expect(await h.client.getRunner(installationId, ORG, runnerId)).toBeUndefined();
    expect(await containers()).not.toContain(runnerName);
    // A second pass finds nothing more to do.
    expect(await applyHostRules('docker', ports())).toMatchObject({ stuckLaunchesRequeued: 0, leakedHostsRemoved: 0 });
  }, 60_000);

  it('tears down idle warm runners beyond what the pool wants after its idle timeout, never a busy one', async () => {
    clock = Date.now();
    const pool = config.pools[0]!;
    const names = [1, 2].map((slot) => `gha-${POOL}-w${slot}-1`);
    for (const [i, runnerName] of names.entries()) {
      const jobId = warmJobId(POOL, i + 1);
      await h.dispatch.openWarmSlot({ pool: POOL, jobId, owner: 'octo-org', repo: '', labels: pool.labels }, new Date(), new Date(0));
      await h.dispatch.markDispatched(jobId, { pool: POOL, runnerName, attempt: 1, at: new Date() });
      expect(await h.invoke([launchMessage(POOL, jobId, { runnerName, repo: '' })])).toEqual({ batchItemFailures: [] });
    }
    await waitUntil(
      'both warm runners online',
      () => names.every((n) => [...h.sim.model.runners.values()].some((r) => r.name === n && r.status === 'online')),
      30_000,
    );
    // One of them takes a long job (its in_progress webhook lost: the record still says idle).
    const { jobs } = await simControl<{ jobs: { id: number }[] }>(h.sim, 'POST', '/_sim/runs', {
      owner: 'octo-org',
      repo: 'app',
      jobs: [{ labels: ['docker'], durationMs: 20_000 }],
    });
    await waitUntil('a warm runner to take the job', () => h.sim.model.jobs.get(jobs[0]!.id)?.status === 'in_progress', 20_000);
    const busy = h.sim.model.jobs.get(jobs[0]!.id)!.runnerName!;
    const idle = names.find((n) => n !== busy)!;

    // Within the idle timeout: both kept
    expect(await applyHostRules('docker', ports())).toMatchObject({ idleWarmRemoved: 0 });
    expect(await containers()).toEqual(expect.arrayContaining(names));

    // Act: past it
    clock = Date.now() + 11 * 60_000;
    const report = await applyHostRules('docker', ports());

    // Assess: the idle one gone (registration, container, slot), the busy one untouched
    expect(report).toMatchObject({ idleWarmRemoved: 1, busyRunnersKept: 1 });
    expect(await containers()).toContain(busy);
    expect(await containers()).not.toContain(idle);
    expect([...h.sim.model.runners.values()].map((r) => r.name)).not.toContain(idle);
    expect((await getJob(h.dynamodb, h.tableName, warmJobId(POOL, names.indexOf(idle) + 1)))?.slotPool).toBeUndefined();
    expect((await getJob(h.dynamodb, h.tableName, warmJobId(POOL, names.indexOf(busy) + 1)))?.slotPool).toBe(POOL);
    await waitUntil('the long job to finish', () => h.sim.model.jobs.get(jobs[0]!.id)?.status === 'completed', 30_000);
  }, 90_000);

  it('never assigned: a runner idle past the pool’s idle limit while its job waits is removed, the job given up with that reason', async () => {
    clock = Date.now();
    const jobId = 80_000_020;
    const runnerName = `gha-${POOL}-${jobId}-1`;
    await dispatched(jobId);
    // No job on GitHub that this runner can take: it comes online and idles (GitHub never gives it one).
    expect(await h.invoke([launchMessage(POOL, jobId)])).toEqual({ batchItemFailures: [] });
    await waitUntil('the runner online', () => [...h.sim.model.runners.values()].some((r) => r.name === runnerName && r.status === 'online'), 30_000);

    expect(await applyHostRules('docker', ports())).toMatchObject({ neverAssignedRemoved: 0 });
    clock = Date.now() + (config.pools[0]!.idleLimitMinutes + 1) * 60_000;
    const report = await applyHostRules('docker', ports());

    expect(report).toMatchObject({ neverAssignedRemoved: 1 });
    expect(await getJob(h.dynamodb, h.tableName, jobId)).toMatchObject({
      state: 'launch_failed',
      launchError: { kind: 'permanent', reason: 'never-assigned' },
    });
    expect(await containers()).not.toContain(runnerName);
    expect([...h.sim.model.runners.values()].map((r) => r.name)).not.toContain(runnerName);
  }, 60_000);

  it('past its lifetime a host goes once idle; a busy one stays — until GitHub’s 5-day job limit is past too', async () => {
    clock = Date.now();
    const jobId = 80_000_030;
    const runnerName = `gha-${POOL}-${jobId}-1`;
    await dispatched(jobId);
    const { jobs } = await simControl<{ jobs: { id: number }[] }>(h.sim, 'POST', '/_sim/runs', {
      owner: 'octo-org',
      repo: 'app',
      jobs: [{ labels: ['docker'], durationMs: 30_000 }],
    });
    expect(await h.invoke([launchMessage(POOL, jobId)])).toEqual({ batchItemFailures: [] });
    await waitUntil('the runner busy', () => h.sim.model.jobs.get(jobs[0]!.id)?.runnerName === runnerName, 30_000);

    clock = Date.now() + (config.pools[0]!.maxLifetimeHours + 1) * 3600_000;
    // (Hosts of earlier tests that are idle and as old go now too.)
    expect((await applyHostRules('docker', ports())).busyRunnersKept).toBeGreaterThanOrEqual(1);
    expect(await containers()).toContain(runnerName);

    clock = Date.now() + GITHUB_SELF_HOSTED_JOB_LIMIT_MS + 2 * 3600_000;
    expect((await applyHostRules('docker', ports())).pastLifetimeRemoved).toBeGreaterThanOrEqual(1);
    expect(await containers()).not.toContain(runnerName);
  }, 60_000);

  it('past its lifetime an idle runner whose job still waits: its job is given up, never left dispatched without a slot', async () => {
    clock = Date.now();
    const jobId = 80_000_035;
    const runnerName = `gha-${POOL}-${jobId}-1`;
    await dispatched(jobId);
    expect(await h.invoke([launchMessage(POOL, jobId)])).toEqual({ batchItemFailures: [] });
    await waitUntil('the runner online', () => [...h.sim.model.runners.values()].some((r) => r.name === runnerName && r.status === 'online'), 30_000);

    clock = Date.now() + (config.pools[0]!.maxLifetimeHours + 1) * 3600_000;
    await applyHostRules('docker', ports());

    const record = await getJob(h.dynamodb, h.tableName, jobId);
    expect(record).toMatchObject({ state: 'launch_failed', launchError: { reason: 'past-lifetime' } });
    expect(record!.slotPool).toBeUndefined();
    expect(await containers()).not.toContain(runnerName);
    expect([...h.sim.model.runners.values()].map((r) => r.name)).not.toContain(runnerName);
  }, 60_000);

  it('drains a pool no longer in the config: its idle host is torn down like a leaked one', async () => {
    clock = Date.now() + DEFAULT_HOST_RULE_LIMITS.graceMs + 1_000;
    const retired = { ...config.pools[0]!, name: 'retired' } as (typeof config.pools)[number];
    const runnerName = 'gha-retired-80000040-1';
    await h.host.create({ runnerName, pool: retired, jobId: 80_000_040, encodedJitConfig: unreachableJitConfig(runnerName) });
    expect(await containers()).toContain(runnerName);

    const report = await applyHostRules('docker', ports());

    expect(report.leakedHostsRemoved).toBeGreaterThanOrEqual(1);
    expect(await containers()).not.toContain(runnerName);
  }, 60_000);

  it('a spare runner that never came (its job ran elsewhere, no host): its slot freed past the boot timeout, not before', async () => {
    const jobId = 80_000_050;
    await dispatched(jobId);
    // Its job ran on another runner; the runner launched for it has no host (its launch died) and no registration.
    await record('completed', jobId, 'someone-else');
    expect(await getJob(h.dynamodb, h.tableName, jobId)).toMatchObject({ state: 'completed', slotPool: POOL });

    clock = Date.now() + DEFAULT_HOST_RULE_LIMITS.graceMs + 1_000;
    expect((await applyHostRules('docker', ports())).sparesRemoved).toBe(0);
    expect((await getJob(h.dynamodb, h.tableName, jobId))!.slotPool).toBe(POOL);

    clock = Date.now() + DEFAULT_HOST_RULE_LIMITS.bootTimeoutMs.docker + 1_000;
    expect((await applyHostRules('docker', ports())).sparesRemoved).toBe(1);
    expect((await getJob(h.dynamodb, h.tableName, jobId))!.slotPool).toBeUndefined();
  }, 60_000);
});
