import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parseWorkflowJobEvent } from '@runners/shared';
import { DynamoDbJobStore } from '@runners/shared/dynamodb';
import { DockerHost } from '@runners/orchestrators/hosts';
import { getJob } from '../helpers/aws';
import { DEPLOYMENT_LABEL, launchMessage, orchestratorHarness } from '../helpers/orchestrator-harness';
import { testPoolsConfig, testPoolsInput } from '../helpers/pools';
import { ORG, waitUntil } from '../helpers/simulator';
import { examplePayload } from '../helpers/webhooks';
import { SIM_RUNNER_IMAGE } from '../../sim/runner/image';

const input = testPoolsInput();
const config = testPoolsConfig({
  pools: [{ ...input.pools[0]!, docker: { image: SIM_RUNNER_IMAGE } }, ...input.pools.slice(1)] as typeof input.pools,
});

/** A host whose create always fails: what a full machine or a broken image looks like to the orchestrator. */
class FailingHost extends DockerHost {
  override async create(): Promise<never> {
    throw new Error('no capacity');
  }
}

type Harness = Awaited<ReturnType<typeof orchestratorHarness>>;

/** Puts job `jobId` where the publisher leaves it: recorded from a real webhook, dispatched, its slot held. */
async function dispatched(h: Harness, jobId: number, pool = 'docker-linux'): Promise<void> {
  const store = new DynamoDbJobStore(h.dynamodb, h.tableName);
  const installationId = await h.client.installationId(ORG);
  const payload = examplePayload('queued', { jobId, labels: ['docker'], repo: 'octo-org/app' });
  payload.installation = { id: installationId };
  await store.recordWebhook(parseWorkflowJobEvent(payload, 'd'), { pool }, new Date());
  await h.dispatch.markDispatched(jobId, { pool, runnerName: `gha-${pool}-${jobId}-1`, attempt: 1, at: new Date() });
}

describe('orchestrator (Docker) on moto + the simulator + dockerd', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await orchestratorHarness({ config });
  }, 120_000);
  afterAll(async () => {
    for (const container of await h.host.list()) await h.host.delete(container.runnerName);
    await h.sim.stop();
    await h.iam.stop();
    // Every call the orchestrator made was within its synthesized role.
    expect(h.iam.proxy.evaluated()).toBeGreaterThan(0);
    expect(h.iam.proxy.denials()).toEqual([]);
  });

  it('launches a JIT runner in a container that runs the job and leaves nothing behind', async () => {
    const jobId = 70_000_001;
    await dispatched(h, jobId);
    const { jobs } = (await (
      await fetch(`${h.sim.url}/_sim/runs`, {
        method: 'POST',
        body: JSON.stringify({ owner: 'octo-org', repo: 'app', jobs: [{ labels: ['docker'], durationMs: 100 }] }),
      })
    ).json()) as { jobs: { id: number }[] };

    const response = await h.invoke([launchMessage('docker-linux', jobId)]);

    expect(response).toEqual({ batchItemFailures: [] });
    expect(await getJob(h.dynamodb, h.tableName, jobId)).toMatchObject({
      launchState: 'created',
      hostId: expect.any(String),
      launchedRunnerId: expect.any(Number),
    });
    // Registered with this deployment's label, so that no other deployment's passes remove it.
    expect([...h.sim.model.runners.values()].find((r) => r.name === launchMessage('docker-linux', jobId).runnerName)?.labels).toContain(DEPLOYMENT_LABEL);
    await waitUntil('the simulated job to complete', () => h.sim.model.jobs.get(jobs[0]!.id)?.status === 'completed', 20_000);
    await waitUntil('the container to be gone', async () => (await h.host.list()).length === 0, 20_000);
    expect(h.sim.model.runners.size).toBe(0);
  }, 60_000);

  it('a duplicate launch message → one host, one registration', async () => {
    const jobId = 70_000_002;
    await dispatched(h, jobId);
    const message = launchMessage('docker-linux', jobId);

    await h.invoke([message]);
    const again = await h.invoke([message]);

    expect(again).toEqual({ batchItemFailures: [] });
    expect((await h.host.list()).filter((c) => c.runnerName === message.runnerName)).toHaveLength(1);
    expect([...h.sim.model.runners.values()].filter((r) => r.name === message.runnerName)).toHaveLength(1);
    expect(h.sim.stats().calls['POST /orgs/{owner}/actions/runners/generate-jitconfig']).toBe(2); // one per job so far
  });

  it('a launch for a job no longer dispatched to this runner does nothing', async () => {
    const jobId = 70_000_003;
    await dispatched(h, jobId);
    await h.dispatch.requeue(jobId, { pool: 'docker-linux', runnerName: `gha-docker-linux-${jobId}-1`, attempt: 1, at: new Date() });
    const before = h.sim.stats().calls['POST /orgs/{owner}/actions/runners/generate-jitconfig'];

    expect(await h.invoke([launchMessage('docker-linux', jobId)])).toEqual({ batchItemFailures: [] });
    expect(h.sim.stats().calls['POST /orgs/{owner}/actions/runners/generate-jitconfig']).toBe(before);
  });

  it('teardown of a busy runner deletes nothing; teardown twice is no error', async () => {
    // Idle runners of earlier tests would take the job (job stealing): retire them first.
    for (const runner of [...h.sim.model.runners.values()]) h.sim.model.deleteRunner(runner);
    const jobId = 70_000_004;
    await dispatched(h, jobId);
    await fetch(`${h.sim.url}/_sim/runs`, {
      method: 'POST',
      body: JSON.stringify({ owner: 'octo-org', repo: 'app', jobs: [{ labels: ['docker'], durationMs: 4_000 }] }),
    });
    const message = launchMessage('docker-linux', jobId);
    await h.invoke([message]);
    await waitUntil('the runner to be busy', () => [...h.sim.model.runners.values()].some((r) => r.name === message.runnerName && r.busy), 20_000);
    const teardown = {
      action: 'teardown',
      pool: 'docker-linux',
      host: 'docker',
      os: 'linux',
      runnerName: message.runnerName,
      reason: 'job-cancelled',
      onlyIfIdle: false,
      jobId,
    };

    expect(await h.invoke([teardown])).toEqual({ batchItemFailures: [] });
    expect((await h.host.list()).map((c) => c.runnerName)).toContain(message.runnerName);
    expect([...h.sim.model.runners.values()].map((r) => r.name)).toContain(message.runnerName);

    await waitUntil('the job to end', () => ![...h.sim.model.runners.values()].some((r) => r.name === message.runnerName), 20_000);
    // Finished: GitHub removed the ephemeral registration itself, so teardown asks GitHub nothing.
    const githubCalls = () => Object.values(h.sim.stats().calls).reduce((a, b) => a + b, 0);
    const before = githubCalls();
    expect(await h.invoke([{ ...teardown, reason: 'finished' }])).toEqual({ batchItemFailures: [] });
    expect(githubCalls()).toBe(before);
    expect(await h.invoke([{ ...teardown, reason: 'finished' }])).toEqual({ batchItemFailures: [] });
    expect((await h.host.list()).map((c) => c.runnerName)).not.toContain(message.runnerName);
  }, 60_000);

  it('tears down an idle runner of a cancelled job and frees its slot', async () => {
    const jobId = 70_000_005;
    await dispatched(h, jobId);
    const message = launchMessage('docker-linux', jobId, { labels: ['self-hosted', 'docker'] });
    await h.invoke([message]);
    await waitUntil(
      'the runner to be online',
      () => [...h.sim.model.runners.values()].some((r) => r.name === message.runnerName && r.status === 'online'),
      20_000,
    );

    await h.invoke([
      {
        action: 'teardown',
        pool: 'docker-linux',
        host: 'docker',
        os: 'linux',
        runnerName: message.runnerName,
        reason: 'job-cancelled',
        onlyIfIdle: true,
        jobId,
      },
    ]);

    expect([...h.sim.model.runners.values()].map((r) => r.name)).not.toContain(message.runnerName);
    await waitUntil('the container to be gone', async () => !(await h.host.list()).some((c) => c.runnerName === message.runnerName), 20_000);
    const item = await getJob(h.dynamodb, h.tableName, jobId);
    expect(item!.slotPool).toBeUndefined();
    expect(item!.slotReleasedBy).toBe('orchestrator');
  }, 60_000);

  it('launches a relaunched job (a new runner after its first one ran another job) afresh', async () => {
    for (const runner of [...h.sim.model.runners.values()]) h.sim.model.deleteRunner(runner);
    const jobId = 70_000_006;
    await dispatched(h, jobId);
    await h.invoke([launchMessage('docker-linux', jobId)]);
    // Its runner ran another job; the publisher freed the slot, requeued the job and dispatched it again.
    await h.dispatch.releaseSlot(jobId, `gha-docker-linux-${jobId}-1`, 'publisher', new Date());
    await h.dispatch.requeue(jobId, { pool: 'docker-linux', runnerName: `gha-docker-linux-${jobId}-1`, attempt: 1, at: new Date() });
    await h.dispatch.markDispatched(jobId, { pool: 'docker-linux', runnerName: `gha-docker-linux-${jobId}-2`, attempt: 2, at: new Date() });

    await h.invoke([launchMessage('docker-linux', jobId, { runnerName: `gha-docker-linux-${jobId}-2`, launchAttempt: 2 })]);

    expect(await getJob(h.dynamodb, h.tableName, jobId)).toMatchObject({ launchedRunner: `gha-docker-linux-${jobId}-2`, launchState: 'created' });
    expect((await h.host.list()).map((c) => c.runnerName)).toContain(`gha-docker-linux-${jobId}-2`);
  });

  it('acknowledges a malformed message instead of retrying it forever', async () => {
    expect(await h.invoke(['{"action":"launch"}', 'not json'])).toEqual({ batchItemFailures: [] });
  });
});

describe('orchestrator: host creation failure', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await orchestratorHarness({
      config,
      host: (docker, managedBy) => new FailingHost(docker, managedBy),
      limits: { hostAttempts: 2, maxLaunchAttempts: 2 },
    });
  }, 120_000);
  afterAll(async () => {
    await h.sim.stop();
    await h.iam.stop();
  });

  it('deletes the registration, frees the slot, and gives the job back with a back-off; gives up after the limit', async () => {
    const jobId = 71_000_001;
    await dispatched(h, jobId);

    const first = await h.invoke([launchMessage('docker-linux', jobId)]);

    expect(first).toEqual({ batchItemFailures: [] }); // handled: the job went back to the publisher
    expect(h.sim.model.runners.size).toBe(0);
    const requeued = await getJob(h.dynamodb, h.tableName, jobId);
    expect(requeued).toMatchObject({ state: 'queued', queueKey: 'docker-linux', launchFailures: 1, slotReleasedBy: 'orchestrator' });
    expect(requeued!.notBefore).toBeGreaterThan(Date.now());
    expect(requeued!.slotPool).toBeUndefined();

    // The publisher relaunches it (attempt 2); the second failure reaches maxLaunchAttempts.
    await h.dispatch.markDispatched(jobId, { pool: 'docker-linux', runnerName: `gha-docker-linux-${jobId}-2`, attempt: 2, at: new Date() });
    await h.invoke([launchMessage('docker-linux', jobId, { runnerName: `gha-docker-linux-${jobId}-2`, launchAttempt: 2 })]);

    const gaveUp = await getJob(h.dynamodb, h.tableName, jobId);
    expect(gaveUp).toMatchObject({ state: 'launch_failed', launchFailures: 2 });
    expect(gaveUp!.queueKey).toBeUndefined();
    expect(h.sim.model.runners.size).toBe(0);
  });
});
