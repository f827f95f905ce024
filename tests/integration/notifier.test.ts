import { afterEach, describe, expect, it } from '@jest/globals';
import { DynamoDBClient, GetItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { createRouter, jobKey, parseWorkflowJobEvent, type PoolsConfig } from '@runners/shared';
import { DynamoDbJobStore, DynamoDbNoticeStore } from '@runners/shared/dynamodb';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { createNotifierHandler } from '@runners/notifier';
import { workflowJobPayload } from '../../sim/payloads';
import type { SimulatorOptions } from '../../sim/server';
import { motoTarget } from '../helpers/aws';
import { capturingPowertools } from '../helpers/handler-ports';
import { enforcedIam } from '../helpers/iam';
import { testPoolsConfig } from '../helpers/pools';
import { simControl, simulatorWithClient } from '../helpers/simulator';
import { lambdaContext } from '../../local/lambda-context.mjs';
import { createAppAuth } from '@octokit/auth-app';
import { request } from '@octokit/request';

/*
 * The notifier's handler as its synthesized role (enforced IAM) on moto, against the simulator's check-run, run-cancel
 * and installation endpoints, fed stream records made of the table's real items before and after each change.
 */

const POOL = 'docker-linux';
const context = lambdaContext('notifier', { timeoutMs: 60_000, memoryMb: 512 });

async function notifierFixture(config: PoolsConfig, simOptions: SimulatorOptions = {}, clock = { offsetMs: 0 }) {
  const env = await simulatorWithClient(simOptions, { retries: 0 });
  const iam = await enforcedIam({ pools: config });
  const admin = new DynamoDBClient(motoTarget().clientConfig);
  const notices = new DynamoDbNoticeStore(new DynamoDBClient(iam.as('notifier').clientConfig), iam.tableName);
  const powertools = capturingPowertools('notifier');
  const handler = createNotifierHandler({
    config,
    router: createRouter(config.pools),
    notices,
    waiting: notices,
    maxWaitingPerPool: 25,
    github: env.client,
    now: () => new Date(Date.now() + clock.offsetMs),
    ...powertools,
  });
  const jobs = new DynamoDbJobStore(admin, iam.tableName);
  const raw = async (jobId: number) =>
    (await admin.send(new GetItemCommand({ TableName: iam.tableName, Key: { pk: { S: jobKey(jobId) } }, ConsistentRead: true }))).Item;
  let sequence = 0;
  return {
    env,
    iam,
    powertools,
    /** A run queued on the simulator; its webhook (the real payload) written through the intake's store. */
    async queue(labels: string[], repo = 'app', routing: { pool: string } | { pool: undefined; reason: string } = { pool: POOL }) {
      const {
        jobs: [job],
      } = await simControl<{ jobs: { id: number }[] }>(env.sim, 'POST', '/_sim/runs', { owner: 'octo-org', repo, jobs: [{ labels, durationMs: 100 }] });
      await this.deliver(job!.id, 'queued', routing);
      return job!.id;
    },
    async deliver(
      jobId: number,
      action: 'queued' | 'in_progress' | 'completed',
      routing: { pool: string } | { pool: undefined; reason: string },
      runnerName?: string,
    ) {
      const simJob = env.sim.model.jobs.get(jobId)!;
      const payload = workflowJobPayload(
        { ...simJob, ...(runnerName ? { runnerName, runnerId: 1 } : {}) },
        action,
        env.sim.url,
        env.sim.model.installations.get(simJob.installationId)!,
      );
      return jobs.recordWebhook(parseWorkflowJobEvent(payload, `d-${jobId}-${action}`), routing, new Date());
    },
    raw,
    /** Applies `change` and hands the notifier the stream record of it, as the mapping would. */
    async changed(jobId: number, change: () => Promise<unknown>) {
      const before = await raw(jobId);
      await change();
      const after = await raw(jobId);
      return this.stream(before, after);
    },
    stream(before: Record<string, AttributeValue> | undefined, after: Record<string, AttributeValue> | undefined) {
      const event: DynamoDBStreamEvent = {
        Records: [
          {
            eventID: `e${++sequence}`,
            eventName: before ? 'MODIFY' : 'INSERT',
            dynamodb: { SequenceNumber: String(sequence), OldImage: before as never, NewImage: after as never },
          },
        ],
      };
      return handler(event as never, context);
    },
    tick: () =>
      handler(
        {
          'detail-type': 'Scheduled Event',
          source: 'aws.events',
          id: 't',
          account: '1',
          time: new Date().toISOString(),
          region: 'us-east-1',
          resources: [],
          version: '0',
          detail: {},
        } as never,
        context,
      ),
    checkRuns: (jobId: number) => env.sim.checkRuns().filter((c) => c.externalId === String(jobId)),
    calls: (route: string) => env.sim.stats().calls[route] ?? 0,
    async stop() {
      await env.sim.stop();
      const denied = iam.proxy.denials();
      await iam.stop();
      return denied;
    },
  };
}

describe('the notifier', () => {
  let fixture: Awaited<ReturnType<typeof notifierFixture>> | undefined;
  afterEach(async () => {
    expect(await fixture?.stop()).toEqual([]);
    fixture = undefined;
  });

  it('a job waiting past notices.waitingMinutes gets one in-progress check run saying why; it turns to success when the job gets its runner', async () => {
    const config = testPoolsConfig();
    const clock = { offsetMs: 0 };
    fixture = await notifierFixture(config, {}, clock);
    const jobId = await fixture.queue(['self-hosted', 'docker']);

    await fixture.tick();
    expect(fixture.checkRuns(jobId)).toEqual([]);
    clock.offsetMs = (config.notices.waitingMinutes + 1) * 60_000;
    await fixture.tick();
    await fixture.tick();

    const [run] = fixture.checkRuns(jobId);
    expect(fixture.checkRuns(jobId)).toHaveLength(1);
    expect(run).toMatchObject({ status: 'in_progress', conclusion: null });
    expect(run!.output!.title).toMatch(new RegExp(`^Waiting ${config.notices.waitingMinutes + 1} minutes for a runner: pool ${POOL} starts at most`));

    const response = await fixture.changed(jobId, () => fixture!.deliver(jobId, 'in_progress', { pool: POOL }, 'gha-docker-linux-7-1'));
    expect(response).toEqual({ batchItemFailures: [] });
    expect(fixture.checkRuns(jobId)[0]).toMatchObject({ status: 'completed', conclusion: 'success', output: { title: 'Got runner gha-docker-linux-7-1' } });
    // Delivered again (at-least-once): no second update.
    const patches = fixture.calls('PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}');
    const again = await fixture.raw(jobId);
    await fixture.stream(again, again);
    expect(fixture.calls('PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}')).toBe(patches);
  }, 60_000);

  it('a job of a repository outside the allowlist: a check run naming the repository, and its run cancelled when the policy says so', async () => {
    const config = testPoolsConfig({ repositories: ['octo-org/app'], notices: { checkRuns: true, waitingMinutes: 15, cancelUnroutableJobs: true } });
    fixture = await notifierFixture(config, { actionsPermission: 'write' });
    const {
      jobs: [job],
    } = await simControl<{ jobs: { id: number }[] }>(fixture.env.sim, 'POST', '/_sim/runs', {
      owner: 'octo-org',
      repo: 'other',
      jobs: [{ labels: ['self-hosted', 'docker'] }],
    });
    const jobId = job!.id;

    await fixture.changed(jobId, () => fixture!.deliver(jobId, 'queued', { pool: undefined, reason: 'repository octo-org/other is not in the allowlist' }));

    const [run] = fixture.checkRuns(jobId);
    expect(run).toMatchObject({ status: 'completed', conclusion: 'action_required', output: { title: 'octo-org/other may not use this runner fleet' } });
    expect(run!.output!.summary).toContain('Its workflow run was cancelled');
    expect(fixture.env.sim.model.jobs.get(jobId)).toMatchObject({ status: 'completed', conclusion: 'cancelled' });
    expect((await fixture.raw(jobId))?.notice?.M?.cancelledRun).toEqual({ BOOL: true });
  }, 60_000);

  it('an App without Checks: write: the refusal is recorded once, never retried, and nothing else changes', async () => {
    fixture = await notifierFixture(testPoolsConfig(), { checksPermission: 'none' });
    const {
      jobs: [job],
    } = await simControl<{ jobs: { id: number }[] }>(fixture.env.sim, 'POST', '/_sim/runs', {
      owner: 'octo-org',
      repo: 'app',
      jobs: [{ labels: ['self-hosted', 'fpga'] }],
    });
    const jobId = job!.id;
    const before = await fixture.raw(jobId);
    await fixture.deliver(jobId, 'queued', { pool: undefined, reason: 'no pool has every label of the job' });
    const after = await fixture.raw(jobId);

    expect(await fixture.stream(before, after)).toEqual({ batchItemFailures: [] });
    await fixture.stream(before, after);

    expect(fixture.calls('POST /repos/{owner}/{repo}/check-runs')).toBe(1);
    expect((await fixture.raw(jobId))?.notice?.M).toMatchObject({ reason: { S: 'no-pool' }, failed: { S: 'github-403' } });
    expect(fixture.powertools.logger.lines).toEqual(
      expect.arrayContaining([expect.objectContaining({ message: 'GitHub refused the check run; not retried', refused: 'github-403' })]),
    );
  }, 60_000);

  it('GitHub failing (5xx): the claim is released and the batch fails; the retry writes exactly one check run', async () => {
    fixture = await notifierFixture(testPoolsConfig());
    const {
      jobs: [job],
    } = await simControl<{ jobs: { id: number }[] }>(fixture.env.sim, 'POST', '/_sim/runs', {
      owner: 'octo-org',
      repo: 'app',
      jobs: [{ labels: ['self-hosted', 'fpga'] }],
    });
    const jobId = job!.id;
    const before = await fixture.raw(jobId);
    await fixture.deliver(jobId, 'queued', { pool: undefined, reason: 'no pool has every label of the job' });
    const after = await fixture.raw(jobId);
    // The installation token first (one call), then the check run fails.
    await fixture.env.client.installationId({ kind: 'org', org: 'octo-org' });
    await simControl(fixture.env.sim, 'PUT', '/_sim/faults', { rest: { failNext: [{ status: 502, count: 1 }] } });

    // Every record of the batch failed: the invocation fails, and Lambda retries the batch.
    await expect(fixture.stream(before, after)).rejects.toMatchObject({ name: 'FullBatchFailureError' });
    expect((await fixture.raw(jobId))?.notice).toBeUndefined();
    expect(await fixture.stream(before, after)).toEqual({ batchItemFailures: [] });

    expect(fixture.checkRuns(jobId)).toHaveLength(1);
    expect(fixture.checkRuns(jobId)[0]!.output!.title).toBe('No runner pool has every label of this job: [self-hosted, fpga]');
  }, 60_000);

  it('the simulator refuses what GitHub refuses: an unknown commit, completed without a conclusion, output without a summary, no token', async () => {
    fixture = await notifierFixture(testPoolsConfig());
    const { sim } = fixture.env;
    const installationId = await fixture.env.client.installationId({ kind: 'org', org: 'octo-org' });
    await expect(
      fixture.env.client.createCheckRun(installationId, 'octo-org', 'app', {
        name: 'x',
        headSha: 'f'.repeat(40),
        status: 'in_progress',
        title: 't',
        summary: 's',
      }),
    ).rejects.toMatchObject({ status: 422 });
    const {
      jobs: [job],
    } = await simControl<{ jobs: { id: number; head_sha: string }[] }>(sim, 'POST', '/_sim/runs', {
      owner: 'octo-org',
      repo: 'app',
      jobs: [{ labels: ['self-hosted'] }],
    });
    const id = await fixture.env.client.createCheckRun(installationId, 'octo-org', 'app', {
      name: 'x',
      headSha: job!.head_sha,
      status: 'in_progress',
      title: 't',
      summary: 's',
    });
    const { token } = await createAppAuth({ appId: sim.appId, privateKey: sim.privateKeyPem, request: request.defaults({ baseUrl: sim.url }) })({
      type: 'installation',
      installationId,
    });
    const patch = (body: unknown, auth = `token ${token}`) =>
      fetch(`${sim.url}/repos/octo-org/app/check-runs/${id}`, { method: 'PATCH', body: JSON.stringify(body), headers: { authorization: auth } });

    expect((await patch({ status: 'completed' })).status).toBe(422);
    expect((await patch({ output: { title: 'only a title' } })).status).toBe(422);
    expect((await patch({ conclusion: 'success' }, 'token nope')).status).toBe(401);
    expect(sim.checkRuns().find((c) => c.id === id)).toMatchObject({ status: 'in_progress', conclusion: null });
    const settled = await patch({ conclusion: 'success' });
    expect(settled.status).toBe(200);
    expect(await settled.json()).toMatchObject({ status: 'completed', conclusion: 'success', completed_at: expect.any(String) });
  }, 60_000);
});
