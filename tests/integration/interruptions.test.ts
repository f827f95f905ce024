import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parseWorkflowJobEvent } from '@runners/shared';
import { DynamoDbJobStore } from '@runners/shared/dynamodb';
import { SIM_RUNNER_IMAGE } from '../../sim/runner/image';
import { getJob } from '../helpers/aws';
import { launchMessage, orchestratorHarness } from '../helpers/orchestrator-harness';
import { testPoolsConfig, testPoolsInput } from '../helpers/pools';
import { ORG, simControl, waitUntil } from '../helpers/simulator';
import { examplePayload } from '../helpers/webhooks';

/*
 * EC2's interruption events through the orchestrator's handler, on moto + the simulator + dockerd (a container stands
 * for the instance), and the classification of the job such a host then fails: interrupted, re-run once through
 * GitHub — with an App that may (Actions: write) and one that may not.
 */

const input = testPoolsInput();
const config = testPoolsConfig({
  pools: [{ ...input.pools[0]!, docker: { image: SIM_RUNNER_IMAGE }, rerunInterruptedJobs: true }, ...input.pools.slice(1)] as typeof input.pools,
});
const POOL = 'docker-linux';
type Harness = Awaited<ReturnType<typeof orchestratorHarness>>;

const warning = (instanceId: string) => ({
  version: '0',
  id: 'e',
  source: 'aws.ec2',
  'detail-type': 'EC2 Spot Instance Interruption Warning',
  account: '123456789012',
  time: new Date().toISOString(),
  region: 'us-east-1',
  resources: [],
  detail: { 'instance-id': instanceId, 'instance-action': 'terminate' },
});

describe('host interruptions', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await orchestratorHarness({ config, sim: { actionsPermission: 'write' } });
  }, 120_000);
  afterAll(async () => expect(await h.stop()).toEqual([]));

  const store = () => new DynamoDbJobStore(h.dynamodb, h.tableName);
  async function record(action: 'queued' | 'completed', jobId: number, extra: { runnerName?: string; conclusion?: string } = {}) {
    const payload = examplePayload(action, { jobId, labels: ['docker'], repo: 'octo-org/app', ...extra });
    payload.installation = { id: await h.client.installationId(ORG) };
    await store().recordWebhook(parseWorkflowJobEvent(payload, `d-${jobId}-${action}`), { pool: POOL }, new Date());
  }
  const dispatched = (jobId: number) => h.dispatched(jobId, POOL);

  it('a warning for an idle runner’s host: torn down now, its job back to the publisher for a fresh host', async () => {
    const jobId = 97_000_001;
    const runnerName = await dispatched(jobId);
    expect(await h.invoke([launchMessage(POOL, jobId)])).toEqual({ batchItemFailures: [] });
    await waitUntil('the runner online', () => [...h.sim.model.runners.values()].some((r) => r.name === runnerName && r.status === 'online'), 30_000);
    const host = (await h.host.list()).find((c) => c.runnerName === runnerName)!;

    const answer = await invokeEvent(h, warning(host.id));

    expect(answer).toMatchObject({ kind: 'spot-interruption', found: true, runnerName, tornDown: true });
    expect(await getJob(h.dynamodb, h.tableName, jobId)).toMatchObject({ state: 'queued', launchError: { kind: 'transient', reason: 'spot-interruption' } });
    expect((await getJob(h.dynamodb, h.tableName, jobId))!.slotPool).toBeUndefined();
    expect((await h.host.list()).map((c) => c.runnerName)).not.toContain(runnerName);
    expect([...h.sim.model.runners.values()].map((r) => r.name)).not.toContain(runnerName);
  }, 60_000);

  it('a warning for a host that is not ours changes nothing', async () => {
    expect(await invokeEvent(h, warning('i-0123456789abcdef0'))).toMatchObject({ found: false, tornDown: false });
  });

  it('the job its interrupted host then failed: classified interrupted and re-run once, however often its teardown comes', async () => {
    const { jobs } = await simControl<{ jobs: { id: number }[] }>(h.sim, 'POST', '/_sim/runs', {
      owner: 'octo-org',
      repo: 'app',
      jobs: [{ labels: ['nobody'], durationMs: 100 }],
    });
    const jobId = jobs[0]!.id;
    // On GitHub the job is over (here: cancelled while queued); our record says it failed on runner R, whose host was warned.
    await simControl(h.sim, 'POST', `/_sim/jobs/${jobId}/cancel`);
    const runnerName = await dispatched(jobId);
    await record('completed', jobId, { runnerName, conclusion: 'failure' });
    expect(await h.launches.markHostInterrupted(jobId, runnerName, 'spot-interruption', Date.now())).toBe(true);
    const teardown = {
      action: 'teardown',
      pool: POOL,
      host: 'docker',
      os: 'linux',
      runnerName,
      reason: 'job-failed',
      onlyIfIdle: false,
      jobId,
      finishedJobId: jobId,
    };

    expect(await h.invoke([teardown])).toEqual({ batchItemFailures: [] });
    expect(await h.invoke([teardown])).toEqual({ batchItemFailures: [] });

    expect(await getJob(h.dynamodb, h.tableName, jobId)).toMatchObject({ failureClass: 'interrupted', rerunRequestedAt: expect.any(String) });
    const reruns = [...h.sim.model.jobs.values()].filter((j) => j.rerunOf === jobId);
    expect(reruns).toHaveLength(1);
    expect(reruns[0]).toMatchObject({ status: 'queued', runAttempt: 2, labels: ['nobody'] });
    h.sim.model.cancelJob(reruns[0]!);
  }, 60_000);
});

describe('host interruptions, a run still running', () => {
  it('GitHub refuses to re-run a job while its run has other jobs running: the teardown is done first, the re-run retried with the message', async () => {
    const h = await orchestratorHarness({ config, sim: { actionsPermission: 'write' } });
    try {
      const { jobs } = await simControl<{ jobs: { id: number }[] }>(h.sim, 'POST', '/_sim/runs', {
        owner: 'octo-org',
        repo: 'app',
        jobs: [{ labels: ['nobody'], durationMs: 100, matrix: 2 }],
      });
      const [jobId, sibling] = jobs.map((j) => j.id);
      await simControl(h.sim, 'POST', `/_sim/jobs/${jobId}/cancel`);
      const store = new DynamoDbJobStore(h.dynamodb, h.tableName);
      const installation = { id: await h.client.installationId(ORG) };
      const runnerName = `gha-${POOL}-${jobId}-1`;
      const webhook = async (action: 'queued' | 'completed') => {
        const payload = examplePayload(action, { jobId: jobId!, labels: ['docker'], repo: 'octo-org/app', runnerName, conclusion: 'failure' });
        payload.installation = installation;
        await store.recordWebhook(parseWorkflowJobEvent(payload, `d-${action}`), { pool: POOL }, new Date());
      };
      await webhook('queued');
      await h.dispatch.markDispatched(jobId!, { pool: POOL, runnerName, attempt: 1, at: new Date() });
      await h.launches.markHostInterrupted(jobId!, runnerName, 'spot-interruption', Date.now());
      await webhook('completed');
      const teardown = {
        action: 'teardown',
        pool: POOL,
        host: 'docker',
        os: 'linux',
        runnerName,
        reason: 'job-failed',
        onlyIfIdle: false,
        jobId,
        finishedJobId: jobId,
      };

      await expect(h.invoke([teardown])).rejects.toThrow(/All records failed processing/);
      expect((await getJob(h.dynamodb, h.tableName, jobId!))!.rerunRequestedAt).toBeUndefined();

      // The rest of the run finished: the message's next delivery re-runs it.
      await simControl(h.sim, 'POST', `/_sim/jobs/${sibling}/cancel`);
      expect(await h.invoke([teardown])).toEqual({ batchItemFailures: [] });
      expect([...h.sim.model.jobs.values()].filter((j) => j.rerunOf === jobId)).toHaveLength(1);
    } finally {
      await h.sim.stop();
      await h.iam.stop();
    }
  }, 120_000);
});

describe('host interruptions, an App without Actions: write', () => {
  it('classifies the job; GitHub refuses its re-run (no Actions: write): logged, not retried, the teardown done', async () => {
    const h = await orchestratorHarness({ config });
    try {
      const { jobs } = await simControl<{ jobs: { id: number }[] }>(h.sim, 'POST', '/_sim/runs', {
        owner: 'octo-org',
        repo: 'app',
        jobs: [{ labels: ['nobody'], durationMs: 100 }],
      });
      const jobId = jobs[0]!.id;
      await simControl(h.sim, 'POST', `/_sim/jobs/${jobId}/cancel`);
      const store = new DynamoDbJobStore(h.dynamodb, h.tableName);
      const installation = { id: await h.client.installationId(ORG) };
      const runnerName = `gha-${POOL}-${jobId}-1`;
      const webhook = async (action: 'queued' | 'completed') => {
        const payload = examplePayload(action, { jobId, labels: ['docker'], repo: 'octo-org/app', runnerName, conclusion: 'failure' });
        payload.installation = installation;
        await store.recordWebhook(parseWorkflowJobEvent(payload, `d-${action}`), { pool: POOL }, new Date());
      };
      await webhook('queued');
      await h.dispatch.markDispatched(jobId, { pool: POOL, runnerName, attempt: 1, at: new Date() });
      expect(await h.launches.markHostInterrupted(jobId, runnerName, 'spot-interruption', Date.now())).toBe(true);
      await webhook('completed');

      const teardown = h.invoke([
        { action: 'teardown', pool: POOL, host: 'docker', os: 'linux', runnerName, reason: 'job-failed', onlyIfIdle: false, jobId, finishedJobId: jobId },
      ]);

      // A refusal that no retry changes: the teardown completes, the re-run is not marked done.
      expect(await teardown).toEqual({ batchItemFailures: [] });
      const item = await getJob(h.dynamodb, h.tableName, jobId);
      expect(item).toMatchObject({ failureClass: 'interrupted' });
      expect(item!.rerunRequestedAt).toBeUndefined();
      expect([...h.sim.model.jobs.values()].filter((j) => j.rerunOf === jobId)).toEqual([]);
    } finally {
      await h.sim.stop();
      await h.iam.stop();
    }
  }, 120_000);
});

/** The handler invoked with an EventBridge event (as the interruption rule does), its answer returned. */
async function invokeEvent(h: Harness, event: unknown): Promise<unknown> {
  return h.invokeEvent(event);
}
