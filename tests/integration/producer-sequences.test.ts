import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { JOBS_TABLE } from '@runners/shared';
import { createJobsTable, deleteTable, getJob, motoTarget, scanTable } from '../helpers/aws';
import { testPoolsConfig } from '../helpers/pools';
import { producerHarness, TEST_SECRET } from '../helpers/producer-harness';
import { examplePayload, httpApiEvent, signature, signedDelivery } from '../helpers/webhooks';

let nextJobId = 9_000_000_000;
const newJobId = () => nextJobId++;

describe('producer: sequences of deliveries for one job', () => {
  const target = motoTarget();
  const client = new DynamoDBClient(target.clientConfig);
  let tableName: string;
  let harness: ReturnType<typeof producerHarness>;

  beforeAll(async () => {
    tableName = await createJobsTable(target);
    harness = producerHarness({ target, tableName, config: testPoolsConfig() });
  });
  afterAll(async () => {
    await deleteTable(client, tableName);
  });

  const deliver = (action: string, jobId: number, extra: Parameters<typeof examplePayload>[1] = {}, deliveryId?: string) =>
    harness.invoke(signedDelivery(TEST_SECRET, examplePayload(action, { jobId, labels: ['self-hosted', 'docker'], ...extra }), { deliveryId }));

  const queuedInPool = async (pool: string): Promise<number[]> => {
    const index = JOBS_TABLE.indexes.queuedByPool;
    const result = await client.send(
      new QueryCommand({
        TableName: tableName,
        IndexName: index.name,
        KeyConditionExpression: '#k = :pool',
        ExpressionAttributeNames: { '#k': index.partitionKey.name },
        ExpressionAttributeValues: { ':pool': { S: pool } },
      }),
    );
    return (result.Items ?? []).map((item) => Number(item.jobId?.N));
  };

  it('runs the full lifecycle waiting → queued → in_progress → completed', async () => {
    const jobId = newJobId();

    for (const action of ['waiting', 'queued', 'in_progress', 'completed']) {
      const response = await deliver(action, jobId, action === 'in_progress' || action === 'completed' ? { runnerName: 'gha-docker-linux-1-1' } : {});
      expect(harness.body(response)).toMatchObject({ state: action, changed: true, pool: 'docker-linux' });
    }

    const item = await getJob(client, tableName, jobId);
    expect(item).toMatchObject({ state: 'completed', runnerName: 'gha-docker-linux-1-1', job: { pool: 'docker-linux' } });
    expect(item!.job.firstSeenAt).toEqual(expect.any(String));
    expect(item!.completedAt).toEqual(expect.any(String));
    expect(await queuedInPool('docker-linux')).not.toContain(jobId);
  });

  it('a duplicate delivery (same X-GitHub-Delivery) changes nothing', async () => {
    const jobId = newJobId();
    const event = signedDelivery(TEST_SECRET, examplePayload('queued', { jobId, labels: ['docker'] }), { deliveryId: 'same-delivery' });
    await harness.invoke(structuredClone(event));
    const before = await getJob(client, tableName, jobId);

    const again = await harness.invoke(structuredClone(event));

    expect(again.statusCode).toBe(202);
    expect(harness.body(again)).toMatchObject({ state: 'queued', changed: false });
    expect(await getJob(client, tableName, jobId)).toEqual(before);
  });

  it('a redelivery (new delivery id, same job and action) changes nothing', async () => {
    const jobId = newJobId();
    await deliver('queued', jobId, {}, 'first');
    const before = await getJob(client, tableName, jobId);

    const redelivered = await deliver('queued', jobId, {}, 'redelivery-of-first');

    expect(harness.body(redelivered)).toMatchObject({ changed: false });
    expect(await getJob(client, tableName, jobId)).toEqual(before);
    expect((await queuedInPool('docker-linux')).filter((id) => id === jobId)).toHaveLength(1);
  });

  it('completed before queued: the late queued leaves the job completed and out of the queue', async () => {
    const jobId = newJobId();

    await deliver('completed', jobId, { runnerName: 'someone-else', conclusion: 'success' });
    const late = await deliver('queued', jobId);

    expect(harness.body(late)).toMatchObject({ state: 'completed', changed: false });
    expect(await getJob(client, tableName, jobId)).toMatchObject({ state: 'completed', runnerName: 'someone-else' });
    expect(await queuedInPool('docker-linux')).not.toContain(jobId);
  });

  it('in_progress before queued: the late queued is ignored, the runner name kept', async () => {
    const jobId = newJobId();

    await deliver('in_progress', jobId, { runnerName: 'gha-docker-linux-7-1' });
    const late = await deliver('queued', jobId);

    expect(harness.body(late)).toMatchObject({ state: 'in_progress', changed: false });
    const item = await getJob(client, tableName, jobId);
    expect(item).toMatchObject({ state: 'in_progress', runnerName: 'gha-docker-linux-7-1' });
    expect(item!.queueKey).toBeUndefined();
  });

  it('completed then a late in_progress: stays completed', async () => {
    const jobId = newJobId();

    await deliver('completed', jobId, { runnerName: 'r1', conclusion: 'failure' });
    await deliver('in_progress', jobId, { runnerName: 'r1' });

    expect(await getJob(client, tableName, jobId)).toMatchObject({ state: 'completed', conclusion: 'failure' });
  });

  it('cancelled while queued: completed with no runner, conclusion cancelled, out of the queue', async () => {
    const jobId = newJobId();
    await deliver('queued', jobId);
    expect(await queuedInPool('docker-linux')).toContain(jobId);

    const cancelled = await deliver('completed', jobId, { runnerName: null, conclusion: 'cancelled' });

    expect(harness.body(cancelled)).toMatchObject({ state: 'completed', changed: true });
    const item = await getJob(client, tableName, jobId);
    expect(item).toMatchObject({ state: 'completed', conclusion: 'cancelled' });
    expect(item!.runnerName).toBeUndefined();
    expect(await queuedInPool('docker-linux')).not.toContain(jobId);
  });

  it('an unroutable label set is recorded as unroutable, kept out of every queue, and counted', async () => {
    const jobId = newJobId();
    harness.output.length = 0;

    const response = await deliver('queued', jobId, { labels: ['self-hosted', 'no-such-label'] });

    expect(harness.body(response)).toEqual({ jobId, pool: 'unroutable', state: 'queued', changed: true });
    const item = await getJob(client, tableName, jobId);
    expect(item).toMatchObject({ state: 'queued', job: { unroutableReason: expect.stringContaining('no pool') } });
    expect(item!.job.pool).toBeUndefined();
    expect(item!.queueKey).toBeUndefined();
    const emf = harness.output.filter((line) => line.includes('"_aws"')).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(emf.some((m) => m.UnroutableJobs === 1)).toBe(true);
  });

  it('a job for GitHub-hosted runners is recorded as unroutable but counted apart: the unroutable alarm is for self-hosted jobs', async () => {
    const jobId = newJobId();
    harness.output.length = 0;

    const response = await deliver('queued', jobId, { labels: ['ubuntu-latest'] });

    expect(harness.body(response)).toMatchObject({ jobId, pool: 'unroutable' });
    expect(await getJob(client, tableName, jobId)).toMatchObject({ job: { unroutableReason: 'a job for GitHub-hosted runners' } });
    const emf = harness.output.filter((line) => line.includes('"_aws"')).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(emf.some((m) => m.GitHubHostedJobs === 1)).toBe(true);
    expect(emf.some((m) => 'UnroutableJobs' in m)).toBe(false);
  });

  it('counts a queued job per pool in the JobsQueued metric', async () => {
    harness.output.length = 0;

    await deliver('queued', newJobId());

    const emf = harness.output.filter((line) => line.includes('"_aws"')).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(emf).toContainEqual(expect.objectContaining({ JobsQueued: 1, pool: 'docker-linux' }));
  });

  it("measures time to runner per pool from GitHub's timestamps, on the in_progress that records a runner", async () => {
    const jobId = newJobId();
    await deliver('queued', jobId);
    harness.output.length = 0;
    const started = examplePayload('in_progress', { jobId, labels: ['docker'] });
    started.workflow_job.created_at = '2030-01-01T00:00:00Z';
    started.workflow_job.started_at = '2030-01-01T00:01:30Z';

    await harness.invoke(signedDelivery(TEST_SECRET, started));

    const emf = harness.output.filter((line) => line.includes('"_aws"')).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(emf).toContainEqual(expect.objectContaining({ TimeToRunner: 90, pool: 'docker-linux', service: 'producer' }));
  });

  it('keeps FIFO order in the queue index by GitHub creation time', async () => {
    const [a, b] = [newJobId(), newJobId()];
    const late = examplePayload('queued', { jobId: a, labels: ['k8s'] });
    late.workflow_job.created_at = '2030-01-01T00:00:02Z';
    const early = examplePayload('queued', { jobId: b, labels: ['k8s'] });
    early.workflow_job.created_at = '2030-01-01T00:00:01Z';

    await harness.invoke(signedDelivery(TEST_SECRET, late));
    await harness.invoke(signedDelivery(TEST_SECRET, early));

    const order = (await queuedInPool('eks-k8s')).filter((id) => id === a || id === b);
    expect(order).toEqual([b, a]);
  });

  it('never queues a job of a repository outside the allowlist: one meant for a pool is recorded without a pool (so its author can be told), a GitHub-hosted one is ignored', async () => {
    const allowlisted = producerHarness({ target, tableName, config: testPoolsConfig({ repositories: ['allowed-org/*'] }) });
    const jobId = newJobId();

    const refused = await allowlisted.invoke(signedDelivery(TEST_SECRET, examplePayload('queued', { jobId, labels: ['docker'], repo: 'other-org/repo' })));
    const hosted = await allowlisted.invoke(
      signedDelivery(TEST_SECRET, examplePayload('queued', { jobId: jobId + 2, labels: ['ubuntu-latest'], repo: 'other-org/repo' })),
    );
    const accepted = await allowlisted.invoke(
      signedDelivery(TEST_SECRET, examplePayload('queued', { jobId: jobId + 1, labels: ['docker'], repo: 'Allowed-Org/repo' })),
    );

    expect(refused.statusCode).toBe(202);
    expect(allowlisted.body(refused)).toMatchObject({ jobId, pool: 'unroutable', state: 'queued' });
    const record = await getJob(client, tableName, jobId);
    expect(record).toMatchObject({ state: 'queued', job: { unroutableReason: expect.stringContaining('allowlist') } });
    expect(record?.job.pool).toBeUndefined();
    expect(record?.queueKey).toBeUndefined();
    expect(allowlisted.body(hosted)).toMatchObject({ jobId: jobId + 2, ignored: true, reason: expect.stringContaining('allowlist') });
    expect(await getJob(client, tableName, jobId + 2)).toBeUndefined();
    expect(allowlisted.body(accepted)).toMatchObject({ state: 'queued', changed: true });
  });

  it('accepts a form-encoded delivery (payload= field), signed over the form body', async () => {
    const jobId = newJobId();
    const body = new URLSearchParams({ payload: JSON.stringify(examplePayload('queued', { jobId, labels: ['docker'] })) }).toString();
    // API Gateway HTTP API base64-encodes non-text bodies such as forms.
    const event = httpApiEvent({
      body: Buffer.from(body).toString('base64'),
      isBase64Encoded: true,
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-github-event': 'workflow_job',
        'x-github-delivery': 'form-1',
        'x-hub-signature-256': signature(TEST_SECRET, body),
      },
    });

    const response = await harness.invoke(event);

    expect(response.statusCode).toBe(202);
    expect(await getJob(client, tableName, jobId)).toMatchObject({ state: 'queued', job: { pool: 'docker-linux' } });
  });

  it('accepts a base64-encoded JSON body', async () => {
    const jobId = newJobId();
    const body = JSON.stringify(examplePayload('queued', { jobId, labels: ['docker'] }));
    const event = httpApiEvent({
      body: Buffer.from(body).toString('base64'),
      isBase64Encoded: true,
      headers: {
        'content-type': 'application/json; charset=utf-8',
        'x-github-event': 'workflow_job',
        'x-github-delivery': 'b64-1',
        'x-hub-signature-256': signature(TEST_SECRET, body),
      },
    });

    expect((await harness.invoke(event)).statusCode).toBe(202);
    expect(await getJob(client, tableName, jobId)).toMatchObject({ state: 'queued' });
  });

  it('answers ping with 200 and other events with 202 ignored, writing nothing', async () => {
    const before = await scanTable(client, tableName);

    const ping = await harness.invoke(signedDelivery(TEST_SECRET, { zen: 'Keep it logically awesome.', hook_id: 1 }, { event: 'ping' }));
    const push = await harness.invoke(signedDelivery(TEST_SECRET, { ref: 'refs/heads/main' }, { event: 'push' }));

    expect(ping.statusCode).toBe(200);
    expect(push.statusCode).toBe(202);
    expect(harness.body(push)).toMatchObject({ event: 'push', ignored: true });
    expect(await scanTable(client, tableName)).toEqual(before);
  });

  it('logs neither the secret, the signature nor the payload', async () => {
    harness.output.length = 0;
    const payload = examplePayload('queued', { jobId: newJobId(), labels: ['docker'] });
    const event = signedDelivery(TEST_SECRET, payload);
    const bad = signedDelivery('wrong secret', payload);

    await harness.invoke(event);
    await harness.invoke(bad);
    await harness.invoke(signedDelivery(TEST_SECRET, { ...payload, action: 'bogus' }));

    const logs = harness.output.join('\n');
    expect(logs).toContain('job webhook recorded');
    expect(logs).toContain('rejected webhook');
    expect(logs).not.toContain(TEST_SECRET);
    expect(logs).not.toContain(event.headers['x-hub-signature-256']!.slice(7));
    expect(logs).not.toContain(bad.headers['x-hub-signature-256']!.slice(7));
    // Fields of the payload that nothing needs in a log line: their absence shows the payload is not dumped.
    expect(logs).not.toContain(String(payload.workflow_job.head_sha));
    expect(logs).not.toContain(String(payload.workflow_job.check_run_url));
  });

  it('answers 503 when the table write fails, so that GitHub records a failed delivery', async () => {
    const broken = producerHarness({ target, tableName: 'no-such-table', config: testPoolsConfig() });

    const response = await broken.invoke(signedDelivery(TEST_SECRET, examplePayload('queued', { jobId: newJobId(), labels: ['docker'] })));

    expect(response.statusCode).toBe(503);
    expect(broken.output.join('\n')).toContain('job store failed');
  });
});
