import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { StorageError } from '../../errors';
import { RETENTION_SECONDS, STATE_RANK } from '../../jobs/job-state';
import { JOBS_TABLE, jobKey, poolKey } from '../../jobs/jobs-table';
import { JobsTableAccess } from './jobs-table-access';
import { UpdateBuilder } from './update-builder';
import { EMPTY_LAUNCH_LOG, type PoolLaunchLog } from '../../dispatch/capacity';
import { MAX_ATTEMPT } from '../../dispatch/runner-name';
import type { JobRecord } from '../../jobs/job-store';
import { isWarmJobId } from '../../pools/warm-slots';
import type { Dispatch, DispatchStore, FinishedJob, QueuedJob, WarmRunner, WarmSlot } from '../../dispatch/dispatch-store';

const { queuedByPool: QUEUE, slotsByPool: SLOTS, finishedByPool: FINISHED } = JOBS_TABLE.indexes;
const PK = JOBS_TABLE.partitionKey.name;

type JobItem = JobRecord;

const repositoryOf = (item: Pick<JobItem, 'job'>): string => `${item.job.owner}/${item.job.repo}`;

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
      notBefore: item.notBefore,
      ...(item.traceHeader ? { traceHeader: item.traceHeader } : {}),
    }));
  }

  async slotRunners(pool: string): Promise<Map<string, string>> {
    const items = await this.table.query<Pick<JobItem, 'launchedRunner' | 'job'>>(SLOTS.name, SLOTS.partitionKey.name, pool);
    return new Map(items.map((item) => [item.launchedRunner!, repositoryOf(item)]));
  }

  async finishedJobs(pool: string, limit: number): Promise<FinishedJob[]> {
    const items = await this.table.query<JobItem>(FINISHED.name, FINISHED.partitionKey.name, pool, limit);
    return items.map((item) => ({
      jobId: item.jobId,
      runnerName: item.runnerName,
      launchedRunner: item.launchedRunner,
      holdsSlot: item.slotPool !== undefined,
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

  async markDispatched(jobId: number, dispatch: Dispatch): Promise<boolean> {
    const update = new UpdateBuilder()
      .set('state', 'dispatched')
      .set('stateRank', STATE_RANK.dispatched)
      .set('dispatchedAt', dispatch.at.toISOString())
      .set('updatedAt', dispatch.at.toISOString())
      .set('launchAttempt', dispatch.attempt)
      .set(SLOTS.partitionKey.name, dispatch.pool)
      .set(SLOTS.sortKey.name, dispatch.runnerName)
      // Out of the queue index; the sort key stays, so that a requeue restores the job's place. A new runner: the
      // orchestrator's progress with an earlier one (requeued job) starts over.
      // A new runner: nothing of the last one's host (its creation time, an interruption) carries over.
      .remove(QUEUE.partitionKey.name, 'launchState', 'launchClaimedAt', 'launchedRunnerId', 'hostId', 'hostCreatedAt', 'hostInterruption');
    // Only a job still queued: a second publisher, a late in_progress or completed, all make this a no-op.
    return this.table.conditionalUpdate(jobId, update, {
      expression: '#stateRank = :queuedRank',
      names: { '#stateRank': 'stateRank' },
      values: { ':queuedRank': STATE_RANK.queued },
    }, 'dispatching');
  }

  async requeue(jobId: number, dispatch: Dispatch): Promise<boolean> {
    const update = new UpdateBuilder()
      .set('state', 'queued')
      .set('stateRank', STATE_RANK.queued)
      .set('updatedAt', dispatch.at.toISOString())
      .set(QUEUE.partitionKey.name, dispatch.pool)
      .set('slotReleasedAt', dispatch.at.toISOString())
      .set('slotReleasedBy', 'publisher')
      .remove(SLOTS.partitionKey.name, SLOTS.sortKey.name, 'warmBusyWith');
    // Only this very dispatch: if the job moved on (in_progress, completed), it stays where it is.
    return this.table.conditionalUpdate(jobId, update, {
      expression: '#stateRank = :dispatchedRank AND #launchedRunner = :runner',
      names: { '#launchedRunner': SLOTS.sortKey.name },
      values: { ':dispatchedRank': STATE_RANK.dispatched, ':runner': dispatch.runnerName },
    }, 'requeueing');
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

  async holdsSlot(jobId: number, runnerName: string): Promise<boolean> {
    const item = await this.table.getJob(jobId);
    return item?.launchedRunner === runnerName && item.slotPool !== undefined;
  }

  async releaseSlot(jobId: number, runnerName: string, releasedBy: string, at: Date): Promise<boolean> {
    const update = new UpdateBuilder()
      .set('slotReleasedAt', at.toISOString())
      .set('slotReleasedBy', releasedBy)
      .remove(SLOTS.partitionKey.name);
    // Exactly once per runner: the slot attribute is removed by whichever release comes first.
    return this.table.conditionalUpdate(jobId, update, {
      expression: 'attribute_exists(#slotPool) AND #launchedRunner = :runner',
      names: { '#slotPool': SLOTS.partitionKey.name, '#launchedRunner': SLOTS.sortKey.name },
      values: { ':runner': runnerName },
    }, 'releasing a slot');
  }

  async clearFinished(jobId: number): Promise<void> {
    const update = new UpdateBuilder().remove(FINISHED.partitionKey.name);
    await this.table.conditionalUpdate(jobId, update, { expression: 'attribute_exists(#pk)', names: { '#pk': PK }, values: {} }, 'clearing a finished job');
  }

  async warmRunners(pool: string): Promise<WarmRunner[]> {
    const items = await this.table.query<Pick<JobItem, 'jobId' | 'launchedRunner' | 'warmBusyWith' | 'dispatchedAt'>>(SLOTS.name, SLOTS.partitionKey.name, pool);
    return items
      .filter((item) => isWarmJobId(item.jobId))
      .map((item) => ({ jobId: item.jobId, runnerName: item.launchedRunner!, busyWith: item.warmBusyWith, dispatchedAt: item.dispatchedAt }));
  }

  async openWarmSlot(slot: WarmSlot, at: Date, failedBefore: Date): Promise<boolean> {
    const nowIso = at.toISOString();
    const description: JobItem['job'] = { runId: 0, runAttempt: 1, owner: slot.owner, repo: slot.repo, labels: [...slot.labels], jobName: 'warm runner', firstSeenAt: nowIso, pool: slot.pool };
    const update = new UpdateBuilder()
      .set('jobId', slot.jobId)
      .set('job', description)
      .set('state', 'queued')
      .set('stateRank', STATE_RANK.queued)
      .set('updatedAt', nowIso)
      .set('lastDeliveryId', 'warm-pool')
      .set('expiresAt', Math.floor(at.getTime() / 1000) + RETENTION_SECONDS.open)
      .set(QUEUE.partitionKey.name, slot.pool)
      // After every job of the pool ('~' sorts after the jobs' timestamps): jobs first, warm runners from what is left.
      .set(QUEUE.sortKey.name, `~warm#${String(slot.jobId).padStart(20, '0')}`)
      .remove('launchState', 'launchClaimedAt', 'launchedRunnerId', 'hostId', 'hostCreatedAt', 'hostInterruption', 'warmBusyWith', 'notBefore', 'launchFailures', SLOTS.sortKey.name);
    // A slot that is queued or holds a runner is in use; one whose launches failed waits out its back-off (warmRetryAt,
    // growing with each give-up), or, given up before there was one, the cool-down.
    return this.table.conditionalUpdate(slot.jobId, update, {
      expression:
        'attribute_not_exists(#pk) OR (attribute_not_exists(#slotPool) AND attribute_not_exists(#queueKey) AND (#stateRank <> :failed OR #warmRetryAt < :now OR (attribute_not_exists(#warmRetryAt) AND #updatedAt < :failedBefore)))',
      names: { '#pk': PK, '#slotPool': SLOTS.partitionKey.name, '#queueKey': QUEUE.partitionKey.name, '#warmRetryAt': 'warmRetryAt' },
      values: { ':failed': STATE_RANK.launch_failed, ':failedBefore': failedBefore.toISOString(), ':now': at.getTime() },
    }, 'opening a warm slot');
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
