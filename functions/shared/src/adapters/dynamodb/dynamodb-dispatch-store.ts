import { ConditionalCheckFailedException, DeleteItemCommand, GetItemCommand, PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { StorageError } from '../../errors';
import { JOBS_TABLE, jobKey, poolKey } from '../../jobs/jobs-table';
import { JobsTableAccess } from './jobs-table-access';
import * as writes from './job-record-writes';
import { EMPTY_LAUNCH_LOG, type PoolLaunchLog } from '../../dispatch/capacity';
import { MAX_ATTEMPT } from '../../dispatch/runner-name';
import type { JobRecord } from '../../jobs/job-record';
import { isWarmJobId } from '../../pools/warm-slots';
import type { Dispatch, DispatchStore, FinishedJob, QueuedJob, RunnerRegistration, SlotHolder, WarmRunner, WarmSlot } from '../../dispatch/dispatch-store';

const { queuedByPool: QUEUE, slotsByPool: SLOTS, finishedByPool: FINISHED } = JOBS_TABLE.indexes;
const PK = JOBS_TABLE.partitionKey.name;

type JobItem = JobRecord;

const repositoryOf = (item: Pick<JobItem, 'job'>): string => `${item.job.owner}/${item.job.repo}`;
const registrationOf = (item: Pick<JobItem, 'job' | 'launchedRunnerId'>): RunnerRegistration => ({
  owner: item.job.owner,
  repo: item.job.repo,
  ...(item.job.installationId !== undefined ? { installationId: item.job.installationId } : {}),
  ...(item.launchedRunnerId !== undefined ? { runnerId: item.launchedRunnerId } : {}),
});

export class DynamoDbDispatchStore implements DispatchStore {
  private readonly table: JobsTableAccess;

  constructor(client: DynamoDBClient, tableName: string) {
    this.table = new JobsTableAccess(client, tableName);
  }

  async queuedJobs(pool: string, limit: number): Promise<QueuedJob[]> {
    const items = await this.table.query<JobItem>(QUEUE.name, QUEUE.partitionKey.name, pool, limit);
    return items.map((item) => ({
      jobId: item.jobId,
      owner: item.job.owner,
      repo: item.job.repo,
      installationId: item.job.installationId,
      labels: item.job.labels,
      // Runner names carry at most 4 digits of attempt: a warm slot relaunched for its 10,000th time starts over at 1
      // (the runner of attempt 1 is long gone by then).
      nextAttempt: ((item.launchAttempt ?? 0) % MAX_ATTEMPT) + 1,
      createdAt: item.job.createdAt ?? item.job.firstSeenAt,
      seenAt: item.job.firstSeenAt,
      queuedAt: item.updatedAt,
      notBefore: item.notBefore,
      ...(item.traceHeader ? { traceHeader: item.traceHeader } : {}),
    }));
  }

  async slots(pool: string): Promise<SlotHolder[]> {
    type Projected = Pick<
      JobItem,
      'jobId' | 'job' | 'launchedRunner' | 'state' | 'runnerName' | 'busyWith' | 'dispatchedAt' | 'updatedAt' | 'launchedRunnerId'
    >;
    const items = await this.table.query<Projected>(SLOTS.name, SLOTS.partitionKey.name, pool);
    return items.map((item) => ({
      jobId: item.jobId,
      runnerName: item.launchedRunner!,
      repository: repositoryOf(item),
      registration: registrationOf(item),
      state: item.state,
      ...(item.runnerName !== undefined ? { ranOn: item.runnerName } : {}),
      ...(item.busyWith !== undefined ? { busyWith: item.busyWith } : {}),
      ...(item.dispatchedAt !== undefined ? { dispatchedAt: item.dispatchedAt } : {}),
      updatedAt: item.updatedAt,
    }));
  }

  async slotRunners(pool: string): Promise<Map<string, string>> {
    return new Map((await this.slots(pool)).map((slot) => [slot.runnerName, slot.repository]));
  }

  async finishedJobs(pool: string, limit: number): Promise<FinishedJob[]> {
    const items = await this.table.query<JobItem>(FINISHED.name, FINISHED.partitionKey.name, pool, limit);
    return items.map((item) => ({
      jobId: item.jobId,
      runnerName: item.runnerName,
      ...(item.runnerId !== undefined ? { runnerId: item.runnerId } : {}),
      launchedRunner: item.launchedRunner,
      holdsSlot: item.slotPool !== undefined,
      ...(item.busyWith !== undefined ? { busyWith: item.busyWith } : {}),
      registration: registrationOf(item),
      ...(item.conclusion !== undefined ? { conclusion: item.conclusion } : {}),
      ...(item.traceHeader ? { traceHeader: item.traceHeader } : {}),
    }));
  }

  async launchLog(pool: string): Promise<PoolLaunchLog> {
    const result = await this.table.send('reading the launch log', () =>
      this.table.client.send(new GetItemCommand({ TableName: this.table.tableName, Key: { [PK]: { S: poolKey(pool) } }, ConsistentRead: true })),
    );
    if (!result.Item) return EMPTY_LAUNCH_LOG;
    const item = unmarshall(result.Item) as { perSecond?: [number, number][]; recent?: { r: string; t: number }[]; version: number };
    return {
      perSecond: item.perSecond ?? [],
      recent: (item.recent ?? []).map((l) => ({ runnerName: l.r, at: l.t })),
      version: item.version,
    };
  }

  async saveLaunchLog(pool: string, log: PoolLaunchLog): Promise<boolean> {
    try {
      // Optimistic lock: written only over the version it was computed from, so two publishers cannot both spend
      // the same capacity.
      await this.table.client.send(
        new PutItemCommand({
          TableName: this.table.tableName,
          Item: marshall({
            [PK]: poolKey(pool),
            perSecond: log.perSecond,
            recent: log.recent.map((l) => ({ r: l.runnerName, t: l.at })),
            version: log.version,
          }),
          ConditionExpression: 'attribute_not_exists(#pk) OR #version = :previous',
          ExpressionAttributeNames: { '#pk': PK, '#version': 'version' },
          ExpressionAttributeValues: marshall({ ':previous': log.version - 1 }),
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw new StorageError(`saving the launch log of pool ${pool} failed`, { cause: error });
    }
  }

  markDispatched(jobId: number, dispatch: Dispatch): Promise<boolean> {
    return this.table.apply(jobId, writes.dispatch(dispatch));
  }

  requeue(jobId: number, dispatch: Dispatch): Promise<boolean> {
    return this.table.apply(jobId, writes.requeue(dispatch.pool, dispatch.runnerName, dispatch.at, 'publisher'));
  }

  async slotsHeld(runners: readonly { readonly jobId: number; readonly runnerName: string }[]): Promise<Map<string, string>> {
    const held = new Map<string, string>();
    // One key per job: two launches of one job (attempts 1 and 2) share a record.
    await this.table.batchGet([...new Set(runners.map((r) => r.jobId))], [SLOTS.partitionKey.name, SLOTS.sortKey.name, 'job'], (raw) => {
      const item = raw as Pick<JobItem, 'slotPool' | 'launchedRunner' | 'job'>;
      if (item.slotPool !== undefined && item.launchedRunner !== undefined) held.set(item.launchedRunner, repositoryOf(item));
    });
    return new Map([...held].filter(([name]) => runners.some((r) => r.runnerName === name)));
  }

  releaseSlot(jobId: number, runnerName: string, releasedBy: string, at: Date): Promise<boolean> {
    return this.table.apply(jobId, writes.releaseSlot(runnerName, releasedBy, at));
  }

  async releaseLostRunner(jobId: number, pool: string, runnerName: string, at: Date): Promise<'requeued' | 'released' | 'not-held'> {
    // Release first (one write, the record comes back): the job usually started on another runner meanwhile, and
    // then that is all. Only a job still waiting for this runner takes a second write, back to the queue.
    const { written, record } = await this.table.applyReturning(jobId, writes.releaseSlot(runnerName, 'publisher', at));
    if (!written) return 'not-held';
    if (record?.state !== 'dispatched') return 'released';
    return (await this.table.apply(jobId, writes.requeueAfterLoss(pool, runnerName, at))) ? 'requeued' : 'released';
  }

  releaseFinished(jobId: number, runnerName: string, at: Date): Promise<boolean> {
    return this.table.apply(jobId, writes.releaseFinished(runnerName, at));
  }

  async clearFinished(jobId: number): Promise<void> {
    await this.table.apply(jobId, writes.clearFinished());
  }

  async warmRunners(pool: string): Promise<WarmRunner[]> {
    return (await this.slots(pool))
      .filter((slot) => isWarmJobId(slot.jobId))
      .map((slot) => ({ jobId: slot.jobId, runnerName: slot.runnerName, busyWith: slot.busyWith, dispatchedAt: slot.dispatchedAt }));
  }

  openWarmSlot(slot: WarmSlot, at: Date, failedBefore: Date): Promise<boolean> {
    return this.table.apply(slot.jobId, writes.openWarmSlot(slot, at, failedBefore));
  }

  async closeWarmSlot(jobId: number): Promise<boolean> {
    try {
      await this.table.client.send(
        new DeleteItemCommand({
          TableName: this.table.tableName,
          Key: { [PK]: { S: jobKey(jobId) } },
          ConditionExpression: 'attribute_exists(#queueKey)',
          ExpressionAttributeNames: { '#queueKey': QUEUE.partitionKey.name },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw new StorageError(`closing warm slot ${jobId} failed`, { cause: error });
    }
  }
}
