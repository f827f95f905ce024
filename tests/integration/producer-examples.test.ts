import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createJobsTable, deleteTable, getJob, motoTarget } from '../helpers/aws';
import { testPoolsConfig } from '../helpers/pools';
import { producerHarness, TEST_SECRET } from '../helpers/producer-harness';
import { signedDelivery, workflowJobExamples } from '../helpers/webhooks';
import { DynamoDBClient, DeleteItemCommand } from '@aws-sdk/client-dynamodb';

/** Where each example's labels must go under tests/helpers/pools.ts, written out rather than computed. */
const EXPECTED_POOL: Record<string, string> = {
  'self-hosted,k8s': 'eks-k8s',
  'gpu,db-app,dc-03': 'ec2-gpu',
  'ubuntu-latest': 'unroutable',
};

describe('producer × every workflow_job example of @octokit/webhooks-examples (GHES included)', () => {
  const target = motoTarget();
  let tableName: string;
  let harness: ReturnType<typeof producerHarness>;
  let client: DynamoDBClient;

  beforeAll(async () => {
    tableName = await createJobsTable(target);
    harness = producerHarness({ target, tableName, config: testPoolsConfig() });
    client = new DynamoDBClient(target.clientConfig);
  });
  afterAll(async () => {
    await deleteTable(client, tableName);
  });

  const examples = workflowJobExamples();
  it('covers api.github.com and the GHES variants', () => {
    expect(examples.length).toBeGreaterThanOrEqual(11);
    expect(examples.some((e) => e.title.startsWith('ghes-'))).toBe(true);
  });

  it.each(examples.map((e) => [e.title, e.payload] as const))('%s, signed, lands in its state', async (_title, payload) => {
    // Prepare: each example alone on a clean record (several share one job id)
    const jobId = payload.workflow_job.id;
    await client.send(new DeleteItemCommand({ TableName: tableName, Key: { pk: { S: `JOB#${jobId}` } } }));
    const pool = EXPECTED_POOL[payload.workflow_job.labels.join(',')];

    // Act
    const response = await harness.invoke(signedDelivery(TEST_SECRET, payload));

    // Assess
    expect(response.statusCode).toBe(202);
    expect(harness.body(response)).toEqual({ jobId, pool, state: payload.action, changed: true });
    const item = await getJob(client, tableName, jobId);
    expect(item).toMatchObject({ jobId, state: payload.action, job: { runId: payload.workflow_job.run_id, labels: payload.workflow_job.labels } });
    expect(`${item!.job.owner}/${item!.job.repo}`).toBe(payload.repository.full_name);
    expect(item!.job.pool).toBe(pool === 'unroutable' ? undefined : pool);
    expect(item!.job.installationId).toBe(payload.installation?.id);
    // Only a routed, queued job is in its pool's queue index.
    expect(item!.queueKey).toBe(payload.action === 'queued' && pool !== 'unroutable' ? pool : undefined);
    if (payload.action === 'in_progress' || payload.action === 'completed') expect(item!.runnerName).toBe(payload.workflow_job.runner_name);
    if (payload.action === 'completed') expect(item!.conclusion).toBe(payload.workflow_job.conclusion);
  });
});
