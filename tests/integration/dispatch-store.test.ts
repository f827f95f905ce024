import { describe, expect, it } from '@jest/globals';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { parseWorkflowJobEvent } from '@runners/shared';
import { DynamoDbDispatchStore, DynamoDbJobStore } from '@runners/shared/dynamodb';
import { createJobsTable, motoTarget } from '../helpers/aws';
import { examplePayload } from '../helpers/webhooks';

describe('dispatch store: confirming recent launches by consistent reads', () => {
  it("confirms only the runner that holds its job's slot, when two launches of one job are asked about", async () => {
    // Prepare: job 1 dispatched to its second runner; job 2 dispatched; job 3 never dispatched
    const target = motoTarget();
    const client = new DynamoDBClient(target.clientConfig);
    const tableName = await createJobsTable(target);
    const jobs = new DynamoDbJobStore(client, tableName);
    const store = new DynamoDbDispatchStore(client, tableName);
    for (const jobId of [1, 2, 3])
      await jobs.recordWebhook(parseWorkflowJobEvent(examplePayload('queued', { jobId, repo: 'o/r' }), 'd'), { pool: 'p' }, new Date());
    await store.markDispatched(1, { pool: 'p', runnerName: 'gha-p-1-2', attempt: 2, at: new Date() });
    await store.markDispatched(2, { pool: 'p', runnerName: 'gha-p-2-1', attempt: 1, at: new Date() });

    // Act
    const held = await store.slotsHeld([
      { jobId: 1, runnerName: 'gha-p-1-1' },
      { jobId: 1, runnerName: 'gha-p-1-2' },
      { jobId: 2, runnerName: 'gha-p-2-1' },
      { jobId: 3, runnerName: 'gha-p-3-1' },
    ]);

    // Assess
    expect([...held.entries()].sort()).toEqual([
      ['gha-p-1-2', 'o/r'],
      ['gha-p-2-1', 'o/r'],
    ]);
  });
});
