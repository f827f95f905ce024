import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { parseWorkflowJobEvent } from '@runners/shared';
import { discoverLostJobs, type DiscoverPorts } from '@runners/reconciler';
import { getJob } from '../helpers/aws';
import { testPoolsConfig } from '../helpers/pools';
import { reconcilerFixture } from '../helpers/reconciler';
import { ORG, simControl } from '../helpers/simulator';
import { examplePayload } from '../helpers/webhooks';

/*
 * Jobs queued on GitHub whose webhooks never came: the reconciler's lost-job pass against the simulator (its REST
 * shapes, ETags and 304s) and the Jobs table on moto.
 */

describe('lost jobs: queued on GitHub, unknown to the table', () => {
  let fixture: Awaited<ReturnType<typeof reconcilerFixture>>;
  let env: typeof fixture.env;
  let dynamodb: DynamoDBClient;
  let tableName: string;
  let ports: DiscoverPorts;
  const statuses: number[] = [];
  const answers: string[] = [];
  const config = testPoolsConfig({ repositories: ['octo-org/app'] });

  beforeAll(async () => {
    // The store acts as the reconciler's synthesized role (its BatchGetItem, UpdateItem), as on AWS.
    fixture = await reconcilerFixture(config, (operation, status) => (statuses.push(status), answers.push(`${operation} ${status}`)));
    ({ env, dynamodb, tableName } = fixture);
    ports = { ...fixture.intake, maxRepositories: 100, maxRunsPerRepository: 20 };
  });
  afterAll(async () => {
    const { evaluated, denied } = await fixture.stop();
    expect(evaluated).toBeGreaterThan(0);
    expect(denied).toEqual([]);
  });

  const queueRun = async (repo: string, count: number) => {
    const { jobs } = await simControl<{ jobs: { id: number }[] }>(env.sim, 'POST', '/_sim/runs', {
      owner: 'octo-org',
      repo,
      jobs: [{ labels: ['self-hosted', 'docker'], durationMs: 60_000, matrix: count }],
    });
    return jobs.map((j) => j.id);
  };

  it('records each lost queued job as its webhook would have, leaves known jobs and other repositories alone', async () => {
    // Prepare: no webhook target, so no webhook arrives. One job of the run is known already (its in_progress came).
    const [known, ...lost] = await queueRun('app', 3);
    const outside = await queueRun('not-allowed', 1);
    const knownEvent = parseWorkflowJobEvent(
      examplePayload('in_progress', { jobId: known, labels: ['self-hosted', 'docker'], repo: 'octo-org/app', runnerName: 'gha-docker-linux-1-1' }),
      'd-known',
    );
    await ports.store.recordWebhook(knownEvent, { pool: 'docker-linux' }, new Date());

    // Act
    const report = await discoverLostJobs(ports);

    // Assess
    expect(report).toMatchObject({ repositories: 1, runs: 1, queuedOnGitHub: 3, recorded: 2 });
    for (const jobId of lost) {
      expect(await getJob(dynamodb, tableName, jobId)).toMatchObject({
        state: 'queued',
        queueKey: 'docker-linux',
        lastDeliveryId: `reconciler-${jobId}-queued`,
        job: expect.objectContaining({
          owner: 'octo-org',
          repo: 'app',
          labels: ['self-hosted', 'docker'],
          installationId: expect.any(Number),
          pool: 'docker-linux',
        }),
      });
    }
    expect(lost).toHaveLength(2);
    expect(await getJob(dynamodb, tableName, known!)).toMatchObject({ state: 'in_progress' });
    expect(await getJob(dynamodb, tableName, outside[0]!)).toBeUndefined();
  }, 30_000);

  it('does nothing more on the next pass: known jobs are read, not written; unchanged lists cost 304s', async () => {
    statuses.length = 0;
    answers.length = 0;
    let writes = 0;
    const store = ports.store;
    const counting: DiscoverPorts['store'] = {
      recordWebhook: (...args) => ((writes += 1), store.recordWebhook(...args)),
      knownJobs: (ids) => store.knownJobs(ids),
      markRunnerBusy: (...args) => store.markRunnerBusy(...args),
      openJobs: (pool) => store.openJobs(pool),
      jobRecords: (ids) => store.jobRecords(ids),
      strandedJobs: (ids, pools) => store.strandedJobs(ids, pools),
      reroute: (...args) => ((writes += 1), store.reroute(...args)),
      recordReassignment: (...args) => ((writes += 1), store.recordReassignment(...args)),
      recordWithdrawal: (...args) => ((writes += 1), store.recordWithdrawal(...args)),
      closeWithdrawn: (...args) => ((writes += 1), store.closeWithdrawn(...args)),
    };
    const report = await discoverLostJobs({ ...ports, store: counting });
    expect(report).toMatchObject({ queuedOnGitHub: 3, recorded: 0 });
    expect(writes).toBe(0);
    // Runs and jobs lists unchanged since the last pass: answered 304 (not counted against the rate limit).
    expect(statuses.filter((s) => s === 304).length).toBeGreaterThanOrEqual(3);
    expect(answers).toContain('GET /app/installations 304');
  }, 30_000);

  it('leaves a job younger than the settle time to its webhook', async () => {
    const [young] = await queueRun('app', 1);
    expect((await discoverLostJobs({ ...ports, now: () => new Date() })).recorded).toBe(0);
    expect(await getJob(dynamodb, tableName, young!)).toBeUndefined();
    expect((await discoverLostJobs(ports)).recorded).toBe(1);
  }, 30_000);

  it('stays within its bound of repositories per pass, and the next passes go on round the list', async () => {
    const [elsewhere] = await queueRun('app2', 1);
    // Every repository allowed: app, not-allowed, app2; one per pass.
    const oneAtATime = { ...ports, config: testPoolsConfig(), maxRepositories: 1, cursor: { next: 0 } };
    let recorded = 0;
    for (let pass = 0; pass < 3; pass++) {
      const report = await discoverLostJobs(oneAtATime);
      expect(report.repositories).toBe(1);
      recorded += report.recorded;
    }
    // app's jobs were known already; not-allowed's one job and app2's one job are new.
    expect(recorded).toBe(2);
    expect(await getJob(dynamodb, tableName, elsewhere!)).toMatchObject({ state: 'queued' });
  }, 30_000);

  it('routes again a job queued in a pool the config no longer has (renamed): into the pool its labels fit now', async () => {
    const [stranded] = await queueRun('app', 1);
    const payload = examplePayload('queued', { jobId: stranded!, labels: ['self-hosted', 'docker'], repo: 'octo-org/app' });
    payload.installation = { id: await env.client.installationId(ORG) };
    // Recorded while the config had a pool "docker-old" (since renamed docker-linux).
    await ports.store.recordWebhook(parseWorkflowJobEvent(payload, 'd-stranded'), { pool: 'docker-old' }, new Date());

    const report = await discoverLostJobs(ports);

    expect(report.rerouted).toBe(1);
    expect(await getJob(dynamodb, tableName, stranded!)).toMatchObject({
      state: 'queued',
      queueKey: 'docker-linux',
      job: expect.objectContaining({ pool: 'docker-linux' }),
    });
    expect((await discoverLostJobs(ports)).rerouted).toBe(0);
  }, 30_000);
});
