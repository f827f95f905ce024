import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDbDispatchStore, DynamoDbLaunchStore } from '@runners/shared/dynamodb';
import { discoverLostJobs } from '@runners/reconciler';
import { jobEventFromApi, syncOpenJobs, type SyncPorts } from '@runners/reconciler';
import { acceptJobEvent } from '@runners/shared';
import { getJob } from '../helpers/aws';
import { testPoolsConfig } from '../helpers/pools';
import { reconcilerFixture } from '../helpers/reconciler';
import { ORG, runSimulatedRunner, simControl } from '../helpers/simulator';

/*
 * GitHub is the truth: records holding a slot whose webhooks were lost (beyond redelivery) are moved on to what
 * GitHub says, by the reconciler's open-job pass acting as its synthesized role, against the simulator's REST API
 * (ETags, 304s) and the Jobs table on moto. No webhook target is set: every webhook is lost.
 */

describe('open jobs: records holding a slot, moved on to GitHub’s state', () => {
  let fixture: Awaited<ReturnType<typeof reconcilerFixture>>;
  let env: typeof fixture.env;
  let dynamodb: DynamoDBClient;
  let tableName: string;
  let ports: SyncPorts;
  const statuses: string[] = [];
  const config = testPoolsConfig({ repositories: ['octo-org/app'] });
  const POOL = 'docker-linux';

  beforeAll(async () => {
    fixture = await reconcilerFixture(config, (operation, status) => statuses.push(`${operation} ${status}`));
    ({ env, dynamodb, tableName } = fixture);
    ports = { ...fixture.intake, maxJobChecks: 100 };
  });
  afterAll(async () => {
    const { evaluated, denied } = await fixture.stop();
    expect(evaluated).toBeGreaterThan(0);
    expect(denied).toEqual([]);
  });

  /** Jobs queued on the simulator, recorded (as the lost-job pass records them) and dispatched: each holds a slot. */
  async function dispatchedJobs(count: number, durationMs = 200): Promise<number[]> {
    const { jobs } = await simControl<{ jobs: { id: number }[] }>(env.sim, 'POST', '/_sim/runs', {
      owner: 'octo-org',
      repo: 'app',
      jobs: [{ labels: ['self-hosted', 'docker'], durationMs, matrix: count }],
    });
    await discoverLostJobs({ ...ports, github: env.client, maxRepositories: 100, maxRunsPerRepository: 20 });
    const dispatch = new DynamoDbDispatchStore(dynamodb, tableName);
    for (const { id } of jobs)
      expect(await dispatch.markDispatched(id, { pool: POOL, runnerName: `gha-${POOL}-${id}-1`, attempt: 1, at: new Date() })).toBe(true);
    return jobs.map((j) => j.id);
  }

  it('a lost `completed`: the record completes in one pass, into the publisher’s finished index (teardown, slot freed)', async () => {
    const [done, cancelled, waiting] = await dispatchedJobs(3);
    // On GitHub: one job ran to completion on a runner not ours, one was cancelled while queued, one still waits.
    const installationId = await env.client.installationId(ORG);
    const { encodedJitConfig } = await env.client.generateJitConfig(installationId, ORG, { name: 'someone-else', labels: ['self-hosted', 'docker'] });
    expect(await runSimulatedRunner(encodedJitConfig).exited).toBe(0);
    await simControl(env.sim, 'POST', `/_sim/jobs/${cancelled}/cancel`);
    expect(env.sim.model.jobs.get(done!)).toMatchObject({ status: 'completed', conclusion: 'success', runnerName: 'someone-else' });

    const report = await syncOpenJobs(ports);

    expect(report).toMatchObject({ checked: 3, advanced: 2, completed: 2 });
    expect(await getJob(dynamodb, tableName, done!)).toMatchObject({
      state: 'completed',
      runnerName: 'someone-else',
      conclusion: 'success',
      finishedKey: POOL,
    });
    expect(await getJob(dynamodb, tableName, cancelled!)).toMatchObject({ state: 'completed', conclusion: 'cancelled', finishedKey: POOL });
    // Still queued on GitHub: its record stays dispatched, its runner on the way.
    expect(await getJob(dynamodb, tableName, waiting!)).toMatchObject({ state: 'dispatched' });
    // Completed records hold no slot in what the pass reads next time: nothing more to ask about them.
    expect((await ports.store.openJobs(POOL)).filter((r) => r.jobId === done || r.jobId === cancelled).every((r) => r.state === 'completed')).toBe(true);
    env.sim.model.cancelJob(env.sim.model.jobs.get(waiting!)!);
  }, 30_000);

  it('a lost `in_progress`: the record learns which runner has its job', async () => {
    const [job] = await dispatchedJobs(1, 5_000);
    const installationId = await env.client.installationId(ORG);
    const { encodedJitConfig } = await env.client.generateJitConfig(installationId, ORG, { name: 'runner-elsewhere', labels: ['self-hosted', 'docker'] });
    const runner = runSimulatedRunner(encodedJitConfig);
    while (env.sim.model.jobs.get(job!)!.status === 'queued') await new Promise((r) => setTimeout(r, 20));

    const report = await syncOpenJobs(ports);

    // (The earlier test's waiting job, cancelled since, completes in this pass too.)
    expect(report).toMatchObject({ advanced: 2, completed: 1 });
    expect(await getJob(dynamodb, tableName, job!)).toMatchObject({ state: 'in_progress', runnerName: 'runner-elsewhere' });
    runner.kill();
  }, 30_000);

  it('stays within its bound of GitHub reads per pass; an unchanged job costs a 304 on the next', async () => {
    const jobs = await dispatchedJobs(4);
    const bounded = { ...ports, maxJobChecks: 2, syncCursor: { next: 0 } };
    const open = (await ports.store.openJobs(POOL)).filter((r) => r.state === 'dispatched').map((r) => r.jobId);
    expect(open).toEqual(expect.arrayContaining(jobs));

    statuses.length = 0;
    expect((await syncOpenJobs(bounded)).checked).toBe(2);
    expect(statuses.filter((s) => s.startsWith('GET /repos/{owner}/{repo}/actions/jobs/{job_id}'))).toHaveLength(2);

    // Round the open records: after enough passes every one was asked once, then asked again with its ETag.
    const passes = Math.ceil(open.length / 2);
    for (let i = 1; i < passes; i++) await syncOpenJobs(bounded);
    statuses.length = 0;
    await syncOpenJobs(bounded);
    expect(statuses.filter((s) => s === 'GET /repos/{owner}/{repo}/actions/jobs/{job_id} 304')).toHaveLength(2);
  }, 30_000);

  it('leaves a record younger than the settle time to its webhook', async () => {
    const [young] = await dispatchedJobs(1);
    await simControl(env.sim, 'POST', `/_sim/jobs/${young}/cancel`);
    expect((await syncOpenJobs({ ...ports, now: () => new Date() })).completed).toBe(0);
    expect(await getJob(dynamodb, tableName, young!)).toMatchObject({ state: 'dispatched' });
    expect((await syncOpenJobs(ports)).completed).toBeGreaterThanOrEqual(1);
    expect(await getJob(dynamodb, tableName, young!)).toMatchObject({ state: 'completed', conclusion: 'cancelled' });
  }, 30_000);

  it('a runner that ran another job (job stealing) holds its slot until that job completes: a lost `completed` of that job is found too', async () => {
    for (const j of env.sim.model.jobs.values()) env.sim.model.cancelJob(j);
    const [stolen] = await dispatchedJobs(1);
    const [holder] = await dispatchedJobs(1);
    // The runner launched for `holder` takes `stolen` (the oldest queued job) and finishes it; every webhook is lost.
    const runnerName = `gha-${POOL}-${holder}-1`;
    const installationId = await env.client.installationId(ORG);
    const { encodedJitConfig } = await env.client.generateJitConfig(installationId, ORG, { name: runnerName, labels: ['self-hosted', 'docker'] });
    expect(await runSimulatedRunner(encodedJitConfig).exited).toBe(0);
    expect(env.sim.model.jobs.get(stolen!)).toMatchObject({ status: 'completed', runnerName });
    // Only the `in_progress` of `stolen` came (now: the pass runs with its clock ahead): it marked the holder's runner
    // busy with it. The holder, cancelled, completed.
    const webhook = { ...ports, now: () => new Date() };
    const where = { owner: 'octo-org', repo: 'app', installationId };
    await acceptJobEvent(
      { ...jobEventFromApi((await env.client.getJob(installationId, 'octo-org', 'app', stolen!))!, where, 'in_progress'), runnerName },
      webhook,
    );
    env.sim.model.cancelJob(env.sim.model.jobs.get(holder!)!);
    await acceptJobEvent(jobEventFromApi((await env.client.getJob(installationId, 'octo-org', 'app', holder!))!, where, 'completed'), webhook);
    expect(await getJob(dynamodb, tableName, holder!)).toMatchObject({ state: 'completed', busyWith: stolen, slotPool: POOL });
    // The runner launched for `stolen` was retired as a spare: `stolen` holds no slot, the holder's is the only link.
    expect(await new DynamoDbDispatchStore(dynamodb, tableName).releaseSlot(stolen!, `gha-${POOL}-${stolen}-1`, 'orchestrator', new Date())).toBe(true);
    expect(await getJob(dynamodb, tableName, stolen!)).toMatchObject({ state: 'in_progress' });

    const report = await syncOpenJobs(ports);

    // The holder (completed) holds a slot for its runner's job: that job was asked about and is completed now, into
    // the publisher's finished index — whose step frees the holder's slot (the runner ran it).
    expect(report.completed).toBeGreaterThanOrEqual(1);
    expect(await getJob(dynamodb, tableName, stolen!)).toMatchObject({ state: 'completed', runnerName, finishedKey: POOL });
  }, 30_000);

  it('still queued on GitHub, its runner gone (it ran another job whose `completed` was lost): slot freed, job requeued', async () => {
    // Earlier tests' jobs out of the way; an older job that the runner launched for the newer one takes (GitHub gives
    // the oldest queued job first).
    for (const j of env.sim.model.jobs.values()) env.sim.model.cancelJob(j);
    const [older] = await dispatchedJobs(1);
    const [newer] = await dispatchedJobs(1);
    const runnerName = `gha-${POOL}-${newer}-1`;
    const installationId = await env.client.installationId(ORG);
    const { runnerId, encodedJitConfig } = await env.client.generateJitConfig(installationId, ORG, { name: runnerName, labels: ['self-hosted', 'docker'] });
    const launches = new DynamoDbLaunchStore(dynamodb, tableName);
    const attempt = { jobId: newer!, runnerName, claimedAtMs: Date.now() };
    await launches.claim(attempt, 0);
    await launches.recordHost(attempt, runnerId, 'container-1', Date.now());
    expect(await runSimulatedRunner(encodedJitConfig).exited).toBe(0);
    expect(env.sim.model.jobs.get(older!)).toMatchObject({ status: 'completed', runnerName });
    expect(env.sim.model.jobs.get(newer!)!.status).toBe('queued');

    const report = await syncOpenJobs(ports);

    expect(report.requeued).toBe(1);
    const record = await getJob(dynamodb, tableName, newer!);
    expect(record).toMatchObject({ state: 'queued', queueKey: POOL });
    expect(record!.slotPool).toBeUndefined();
    // The older job's lost `completed` is found by the same pass: GitHub has it completed.
    expect(await getJob(dynamodb, tableName, older!)).toMatchObject({ state: 'completed', runnerName });
    env.sim.model.cancelJob(env.sim.model.jobs.get(newer!)!);
  }, 30_000);
});
