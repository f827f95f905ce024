import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { StorageError } from '../../errors';
import type { JobEvent } from '../../webhooks/workflow-job-event';
import { RETENTION_SECONDS, STATE_RANK, stateOfAction, type JobState } from '../../jobs/job-state';
import type { JobDescription, JobRecord, JobRouting, JobStore, OpenJob, RecordOutcome, StrandedJob } from '../../jobs/job-store';
import { JOBS_TABLE, jobKey } from '../../jobs/jobs-table';
import { JobsTableAccess } from './jobs-table-access';
import { UpdateBuilder } from './update-builder';

const QUEUE = JOBS_TABLE.indexes.queuedByPool;
const FINISHED = JOBS_TABLE.indexes.finishedByPool;

export class DynamoDbJobStore implements JobStore {
  private readonly table: JobsTableAccess;

  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.table = new JobsTableAccess(client, tableName);
  }

  async recordWebhook(event: JobEvent, routing: JobRouting, now: Date, traceHeader?: string): Promise<RecordOutcome> {
    const state = stateOfAction(event.action);
    const nowIso = now.toISOString();
    const nowSeconds = Math.floor(now.getTime() / 1000);
    const description: JobDescription = {
      runId: event.runId,
      runAttempt: event.runAttempt,
      owner: event.owner,
      repo: event.repo,
      installationId: event.installationId,
      labels: [...event.labels],
      jobName: event.jobName,
      workflowName: event.workflowName,
      htmlUrl: event.htmlUrl,
      headSha: event.headSha,
      createdAt: event.createdAt,
      firstSeenAt: nowIso,
      pool: routing.pool,
      unroutableReason: routing.pool === undefined ? routing.reason : undefined,
    };
    const update = new UpdateBuilder()
      // What describes the job is the same in every event of it: the first event to arrive writes it, as one map
      // (one clause, not thirteen: expression size is what a DynamoDB emulator pays for).
      .set('jobId', event.jobId, 'ifAbsent')
      .set('job', description, 'ifAbsent')
      // The first webhook's trace is the job's trace; every later hop continues it.
      .set('traceHeader', traceHeader, 'ifAbsent')
      // The transition itself.
      .set('state', state)
      .set('stateRank', STATE_RANK[state])
      .set('updatedAt', nowIso)
      .set('lastDeliveryId', event.deliveryId)
      .set('expiresAt', nowSeconds + retentionFor(state, routing));

    switch (state) {
      case 'queued':
        // Enter the pool's queue index. Unroutable jobs stay out of it: nothing will ever launch for them.
        if (routing.pool !== undefined) {
          update.set(QUEUE.partitionKey.name, routing.pool);
          update.set(QUEUE.sortKey.name, `${event.createdAt ?? nowIso}#${String(event.jobId).padStart(20, '0')}`);
        }
        break;
      case 'in_progress':
        update.set('runnerName', event.runnerName).set('runnerId', event.runnerId).set('startedAt', event.startedAt ?? nowIso);
        update.remove(QUEUE.partitionKey.name, QUEUE.sortKey.name);
        break;
      case 'completed':
        // runner_name is what teardown follows (job stealing); absent when the job was cancelled while queued.
        update.set('runnerName', event.runnerName).set('runnerId', event.runnerId).set('conclusion', event.conclusion);
        update.set('completedAt', event.completedAt ?? nowIso);
        update.remove(QUEUE.partitionKey.name, QUEUE.sortKey.name);
        // Hand the job to the publisher: tear down the runner that ran it, or the idle one launched for it.
        if (routing.pool !== undefined) update.set(FINISHED.partitionKey.name, routing.pool);
        break;
      case 'waiting':
      case 'dispatched':
      case 'launch_failed':
        break;
    }

    try {
      // Timeline of one job, each line a conditional write on "stored rank below mine":
      //   queued (new record, enters the queue index) → duplicate queued: condition fails, nothing written
      //   completed before queued: record created as completed → late queued: condition fails, never queued
      const result = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { [JOBS_TABLE.partitionKey.name]: { S: jobKey(event.jobId) } },
          UpdateExpression: update.expression(),
          ConditionExpression: 'attribute_not_exists(#pk) OR #stateRank < :stateRank',
          ExpressionAttributeNames: { ...update.names, '#pk': JOBS_TABLE.partitionKey.name },
          ExpressionAttributeValues: marshall(update.values, { removeUndefinedValues: true }),
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return outcome(true, result.Attributes && (unmarshall(result.Attributes) as JobRecord));
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        return outcome(false, error.Item ? (unmarshall(error.Item) as JobRecord) : await this.table.getJob(event.jobId));
      }
      throw new StorageError(`writing job ${event.jobId} failed`, { cause: error });
    }
  }

  async knownJobs(jobIds: readonly number[]): Promise<Set<number>> {
    const known = new Set<number>();
    await this.table.batchGet([...new Set(jobIds)], ['jobId'], (item) => known.add((item as { jobId: number }).jobId));
    return known;
  }

  async openJobs(pool: string): Promise<OpenJob[]> {
    const slots = await this.table.query<{ jobId: number }>(JOBS_TABLE.indexes.slotsByPool.name, JOBS_TABLE.indexes.slotsByPool.partitionKey.name, pool);
    const open: OpenJob[] = [];
    await this.table.batchGet(slots.map((s) => s.jobId), ['jobId', 'state', 'updatedAt', 'job', 'launchedRunner', 'launchState', 'launchedRunnerId', 'launchAttempt'], (item) => open.push(item as OpenJob));
    return open.sort((a, b) => a.jobId - b.jobId);
  }

  async strandedJobs(jobIds: readonly number[], pools: ReadonlySet<string>): Promise<StrandedJob[]> {
    const stranded: StrandedJob[] = [];
    await this.table.batchGet([...new Set(jobIds)], ['jobId', 'state', 'job'], (raw) => {
      const item = raw as Pick<JobRecord, 'jobId' | 'state' | 'job'>;
      if (item.state === 'queued' && item.job.pool !== undefined && !pools.has(item.job.pool)) stranded.push({ jobId: item.jobId, pool: item.job.pool, labels: item.job.labels });
    });
    return stranded;
  }

  reroute(jobId: number, fromPool: string, routing: JobRouting, now: Date): Promise<boolean> {
    const update = new UpdateBuilder().set('updatedAt', now.toISOString());
    // Into the new pool's queue, keeping its place (the sort key is its creation time); or out of every queue.
    if (routing.pool !== undefined) update.setPath(['job', 'pool'], routing.pool).set(QUEUE.partitionKey.name, routing.pool);
    else update.removePath(['job', 'pool']).setPath(['job', 'unroutableReason'], `pool ${fromPool} is no longer configured; ${routing.reason}`).remove(QUEUE.partitionKey.name, QUEUE.sortKey.name);
    return this.table.conditionalUpdate(
      jobId,
      update,
      { expression: '#state = :queued AND #job.#pool = :from', names: { '#state': 'state', '#job': 'job', '#pool': 'pool' }, values: { ':queued': 'queued', ':from': fromPool } },
      'rerouting a job of a pool no longer configured',
    );
  }

  async markWarmRunnerBusy(slotJobId: number, runnerName: string, busyWith: number): Promise<void> {
    // Only while that runner holds the slot: a late or duplicate webhook of a runner already gone changes nothing.
    // A job ran on it: the slot works, its give-ups start again from none.
    await this.table.conditionalUpdate(slotJobId, new UpdateBuilder().set('warmBusyWith', busyWith).remove('warmGiveUps', 'warmRetryAt'), {
      expression: 'attribute_exists(#slotPool) AND #launchedRunner = :runner',
      names: { '#slotPool': JOBS_TABLE.indexes.slotsByPool.partitionKey.name, '#launchedRunner': JOBS_TABLE.indexes.slotsByPool.sortKey.name },
      values: { ':runner': runnerName },
    }, 'marking a warm runner busy');
  }
}

function retentionFor(state: JobState, routing: JobRouting): number {
  if (routing.pool === undefined) return RETENTION_SECONDS.unroutable;
  return state === 'completed' ? RETENTION_SECONDS.finished : RETENTION_SECONDS.open;
}

function outcome(changed: boolean, item: Pick<JobRecord, 'state' | 'job' | 'traceHeader'> | undefined): RecordOutcome {
  if (!item) throw new StorageError('job record missing after a conditional write');
  return { changed, state: item.state, pool: item.job.pool, ...(item.traceHeader ? { traceHeader: item.traceHeader } : {}) };
}
