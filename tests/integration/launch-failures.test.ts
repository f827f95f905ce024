import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parseWorkflowJobEvent } from '@runners/shared';
import { DynamoDbJobStore } from '@runners/shared/dynamodb';
import { SIM_RUNNER_IMAGE } from '../../sim/runner/image';
import { getJob } from '../helpers/aws';
import { capturingPowertools, type CapturingLogger } from '../helpers/handler-ports';
import { launchMessage, orchestratorHarness } from '../helpers/orchestrator-harness';
import { testPoolsConfig, testPoolsInput } from '../helpers/pools';
import { examplePayload } from '../helpers/webhooks';

/*
 * Every launch failure has a cause and a class. A permanent one (the App not installed where the job is, a runner
 * group that does not exist) ends the launch in its one attempt: the reason on the record and in the log, the slot
 * free, nothing left on GitHub or the engine — not a message cycling to the DLQ with a slot held meanwhile.
 */

const input = testPoolsInput();
const docker = { ...input.pools[0]!, docker: { image: SIM_RUNNER_IMAGE } };
const config = testPoolsConfig({
  pools: [docker, { ...docker, name: 'docker-grouped', labels: ['grouped'], runnerGroup: 'no-such-group' }, ...input.pools.slice(1)] as typeof input.pools,
});

type Harness = Awaited<ReturnType<typeof orchestratorHarness>>;

describe('launch failures, classified', () => {
  let h: Harness;
  const powertools = capturingPowertools('orchestrator');
  const logger = powertools.logger as CapturingLogger;
  beforeAll(async () => {
    h = await orchestratorHarness({ config, powertools });
  }, 120_000);
  afterAll(async () => {
    await h.sim.stop();
    await h.iam.stop();
    expect(h.iam.proxy.denials()).toEqual([]);
  });

  async function dispatched(jobId: number, pool: string, owner: string): Promise<void> {
    const store = new DynamoDbJobStore(h.dynamodb, h.tableName);
    // A webhook without an installation id: the orchestrator looks the installation up, as for a job the App cannot see.
    const payload = examplePayload('queued', { jobId, labels: ['docker'], repo: `${owner}/app` });
    delete (payload as { installation?: unknown }).installation;
    await store.recordWebhook(parseWorkflowJobEvent(payload, `d-${jobId}`), { pool }, new Date());
    await h.dispatch.markDispatched(jobId, { pool, runnerName: `gha-${pool}-${jobId}-1`, attempt: 1, at: new Date() });
  }

  const jitCalls = () => h.sim.stats().calls['POST /orgs/{owner}/actions/runners/generate-jitconfig'] ?? 0;

  it('a job of an organisation where the App has no installation: given up in one attempt, reason logged, slot freed', async () => {
    const jobId = 95_000_001;
    await dispatched(jobId, 'docker-linux', 'stranger-org');
    logger.lines.length = 0;

    const response = await h.invoke([launchMessage('docker-linux', jobId, { owner: 'stranger-org' })]);

    expect(response).toEqual({ batchItemFailures: [] });
    const record = await getJob(h.dynamodb, h.tableName, jobId);
    expect(record).toMatchObject({
      state: 'launch_failed',
      launchError: { kind: 'permanent', reason: 'no-installation', message: expect.stringContaining('not installed') },
    });
    expect(record!.slotPool).toBeUndefined();
    const failed = logger.lines.find((l) => l.message === 'launch failed');
    expect(failed).toMatchObject({ level: 'ERROR', gaveUp: true, failure: { kind: 'permanent', reason: 'no-installation' }, jobId });
    // The cause is in the log line: GitHub's own answer, not a bare batch failure.
    expect(JSON.stringify(failed)).toMatch(/404/);
    expect(jitCalls()).toBe(0);
    expect(await h.host.list()).toEqual([]);
  }, 30_000);

  it('a pool whose runner group does not exist: given up with that reason, no registration, no host', async () => {
    const jobId = 95_000_002;
    await dispatched(jobId, 'docker-grouped', 'octo-org');
    logger.lines.length = 0;

    expect(await h.invoke([launchMessage('docker-grouped', jobId, { labels: ['self-hosted', 'grouped'] })])).toEqual({ batchItemFailures: [] });

    expect(await getJob(h.dynamodb, h.tableName, jobId)).toMatchObject({
      state: 'launch_failed',
      launchError: { kind: 'permanent', reason: 'no-runner-group', message: expect.stringContaining('no-such-group') },
    });
    expect(logger.lines.find((l) => l.message === 'launch failed')).toMatchObject({ failure: { reason: 'no-runner-group' } });
    expect(h.sim.model.runners.size).toBe(0);
    expect(await h.host.list()).toEqual([]);
  }, 30_000);

  it('a transient host failure: back to the publisher after a back-off, its class and cause on the record and in the log', async () => {
    const jobId = 95_000_003;
    await dispatched(jobId, 'docker-linux', 'octo-org');
    logger.lines.length = 0;
    // The Docker engine unreachable for this launch: a transient failure of the host step, past its attempts.
    const engine = h.host as unknown as { docker: { run: (...args: unknown[]) => Promise<string> } };
    const run = engine.docker.run;
    engine.docker.run = async () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED /var/run/docker.sock'), { code: 'ECONNREFUSED' }));
    try {
      expect(await h.invoke([launchMessage('docker-linux', jobId)])).toEqual({ batchItemFailures: [] });
    } finally {
      engine.docker.run = run;
    }

    // Out of host attempts: back to the publisher after a back-off, the failure and its class on the record.
    const record = await getJob(h.dynamodb, h.tableName, jobId);
    expect(record).toMatchObject({ state: 'queued', launchFailures: 1, launchError: { kind: 'transient', message: expect.stringContaining('ECONNREFUSED') } });
    expect(logger.lines.find((l) => l.message === 'launch failed')).toMatchObject({ gaveUp: false, failure: { kind: 'transient' } });
  }, 30_000);
});
