import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { StorageError } from '../../errors';
import type { JobEvent } from '../../webhooks/workflow-job-event';
import type { JobRecord } from '../../jobs/job-record';
import type { JobRouting, JobStore, OpenJob, RecordOutcome, StrandedJob } from '../../jobs/job-store';
import { JOBS_TABLE } from '../../jobs/jobs-table';
import { JobsTableAccess } from './jobs-table-access';
import * as writes from './job-record-writes';

export class DynamoDbJobStore implements JobStore {
  private readonly table: JobsTableAccess;

  constructor(client: DynamoDBClient, tableName: string) {
    this.table = new JobsTableAccess(client, tableName);
  }

  async recordWebhook(event: JobEvent, routing: JobRouting, now: Date, traceHeader?: string): Promise<RecordOutcome> {
    const { written, record } = await this.table.applyReturning(event.jobId, writes.webhook(event, routing, now, traceHeader));
    return outcome(written, record ?? (written ? undefined : await this.table.getJob(event.jobId)));
  }

  async knownJobs(jobIds: readonly number[]): Promise<Set<number>> {
    const known = new Set<number>();
    await this.table.batchGet([...new Set(jobIds)], ['jobId'], (item) => known.add((item as { jobId: number }).jobId));
    return known;
  }

  async openJobs(pool: string): Promise<OpenJob[]> {
    const slots = await this.table.query<{ jobId: number }>(JOBS_TABLE.indexes.slotsByPool.name, JOBS_TABLE.indexes.slotsByPool.partitionKey.name, pool);
    return this.jobRecords(slots.map((s) => s.jobId));
  }

  async jobRecords(jobIds: readonly number[]): Promise<OpenJob[]> {
    const found: OpenJob[] = [];
    await this.table.batchGet(
      [...new Set(jobIds)],
      ['jobId', 'state', 'updatedAt', 'job', 'launchedRunner', 'launchState', 'launchedRunnerId', 'launchAttempt', 'busyWith'],
      (item) => found.push(item as OpenJob),
    );
    return found.sort((a, b) => a.jobId - b.jobId);
  }

  async strandedJobs(jobIds: readonly number[], pools: ReadonlySet<string>): Promise<StrandedJob[]> {
    const stranded: StrandedJob[] = [];
    await this.table.batchGet([...new Set(jobIds)], ['jobId', 'state', 'job'], (raw) => {
      const item = raw as Pick<JobRecord, 'jobId' | 'state' | 'job'>;
      if (item.state === 'queued' && item.job.pool !== undefined && !pools.has(item.job.pool))
        stranded.push({ jobId: item.jobId, pool: item.job.pool, labels: item.job.labels });
    });
    return stranded;
  }

  reroute(jobId: number, fromPool: string, routing: JobRouting, now: Date): Promise<boolean> {
    return this.table.apply(jobId, writes.reroute(fromPool, routing, now));
  }

  recordReassignment(jobId: number, assignedAtMs: number, now: Date): Promise<boolean> {
    return this.table.apply(jobId, writes.reassigned(assignedAtMs, now));
  }

  recordWithdrawal(jobId: number, assignedAtMs: number, nowMs: number): Promise<boolean> {
    return this.table.apply(jobId, writes.withdrawn(assignedAtMs, nowMs));
  }

  closeWithdrawn(jobId: number, pool: string, withdrawnBy: number, now: Date): Promise<boolean> {
    return this.table.apply(jobId, writes.closeWithdrawn(pool, withdrawnBy, now));
  }

  async markRunnerBusy(slotJobId: number, runnerName: string, busyWith: number): Promise<void> {
    await this.table.apply(slotJobId, writes.runnerBusy(runnerName, busyWith));
  }
}

function outcome(changed: boolean, item: Pick<JobRecord, 'state' | 'job' | 'traceHeader'> | undefined): RecordOutcome {
  if (!item) throw new StorageError('job record missing after a conditional write');
  return { changed, state: item.state, pool: item.job.pool, ...(item.traceHeader ? { traceHeader: item.traceHeader } : {}) };
}
