import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { HostInterruptionKind, JobRecord } from '../../jobs/job-record';
import { isWarmJobId } from '../../pools/warm-slots';
import type { ClaimOutcome, LaunchAttempt, LaunchFailure, LaunchStore } from '../../launch/launch-store';
import { JobsTableAccess } from './jobs-table-access';
import * as writes from './job-record-writes';

export { WARM_RETRY_BASE_MS, WARM_RETRY_MAX_MS } from './job-record-writes';

/** The orchestrators' writes on job records: a launch's progress, a failed launch, an interrupted host, a re-run. */
export class DynamoDbLaunchStore implements LaunchStore {
  private readonly table: JobsTableAccess;

  constructor(client: DynamoDBClient, tableName: string) {
    this.table = new JobsTableAccess(client, tableName);
  }

  async claim(attempt: LaunchAttempt, staleBeforeMs: number): Promise<ClaimOutcome> {
    // The record comes back with the write, whether it was claimed or not: no read before or after.
    const { written, record } = await this.table.applyReturning(attempt.jobId, writes.claimLaunch(attempt, staleBeforeMs));
    if (written && record) return { kind: 'claimed', job: record };
    if (!record || record.launchedRunner !== attempt.runnerName || record.slotPool === undefined) return { kind: 'not-ours' };
    return record.launchState === 'created' ? { kind: 'created' } : { kind: 'in-progress' };
  }

  recordHost(attempt: LaunchAttempt, runnerId: number, hostId: string, nowMs: number): Promise<boolean> {
    return this.table.apply(attempt.jobId, writes.recordHost(attempt, runnerId, hostId, nowMs));
  }

  failLaunch(
    job: JobRecord,
    runnerName: string,
    outcome: { readonly retryAtMs: number } | 'give-up',
    nowMs: number,
    failure?: LaunchFailure,
  ): Promise<boolean> {
    return this.table.apply(job.jobId, writes.failLaunch(job, runnerName, outcome, nowMs, failure, isWarmJobId(job.jobId)));
  }

  job(jobId: number): Promise<JobRecord | undefined> {
    return this.table.getJob(jobId);
  }

  async jobs(jobIds: readonly number[]): Promise<Map<number, JobRecord>> {
    const found = new Map<number, JobRecord>();
    await this.table.batchGet([...new Set(jobIds)], undefined, (item) => found.set((item as unknown as JobRecord).jobId, item as unknown as JobRecord));
    return found;
  }

  markHostInterrupted(jobId: number, runnerName: string, kind: HostInterruptionKind, nowMs: number): Promise<boolean> {
    return this.table.apply(jobId, writes.hostInterrupted(runnerName, kind, nowMs));
  }

  classifyInterrupted(jobId: number, runnerName: string, nowMs: number): Promise<boolean> {
    return this.table.apply(jobId, writes.classifyInterrupted(runnerName, nowMs));
  }

  claimRerun(jobId: number, nowMs: number): Promise<boolean> {
    return this.table.apply(jobId, writes.claimRerun(nowMs));
  }

  async releaseRerun(jobId: number): Promise<void> {
    await this.table.apply(jobId, writes.releaseRerun());
  }
}
