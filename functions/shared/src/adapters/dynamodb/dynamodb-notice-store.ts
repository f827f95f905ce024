import { QueryCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { JOBS_TABLE } from '../../jobs/jobs-table';
import { JobsTableAccess } from './jobs-table-access';
import type { JobState } from '../../jobs/job-state';
import * as writes from './job-record-writes';
import type { JobNotice, NoticeImage, NoticeReason } from '../../notices/job-notice';

const QUEUE = JOBS_TABLE.indexes.queuedByPool;
const SLOTS = JOBS_TABLE.indexes.slotsByPool;

/*
 * The notifier's writes on job records. A notice is claimed with a conditional write before GitHub is asked (two
 * deliveries of one stream record, or the stream and the waiting pass, write one check run, not two); the claim is
 * released if GitHub fails, so a retry writes it. The resolution is claimed the same way.
 */
export class DynamoDbNoticeStore {
  private readonly table: JobsTableAccess;

  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.table = new JobsTableAccess(client, tableName);
  }

  /** Takes the job on for a notice, while it is still in one of `states` and has none: false if someone else did. */
  claim(jobId: number, reason: NoticeReason, states: readonly JobState[], now: Date): Promise<boolean> {
    return this.table.apply(jobId, writes.claimNotice(reason, states, now));
  }

  /** What came of the claim: the check run's id, or why there is none; and whether the run was cancelled. */
  async settle(jobId: number, outcome: Pick<JobNotice, 'checkRunId' | 'failed' | 'cancelledRun'>): Promise<void> {
    await this.table.apply(jobId, writes.settleNotice(outcome));
  }

  /** GitHub could not be reached: the next delivery of the change tries again. */
  async release(jobId: number): Promise<void> {
    await this.table.apply(jobId, writes.releaseNotice());
  }

  claimResolution(jobId: number, now: Date): Promise<boolean> {
    return this.table.apply(jobId, writes.claimNoticeResolution(now));
  }

  async releaseResolution(jobId: number): Promise<void> {
    await this.table.apply(jobId, writes.releaseNoticeResolution());
  }

  /**
   * Jobs queued in `pool` since before `queuedBefore` that have no notice yet, oldest first, at most `limit`: one
   * query of the queue index (its sort key starts with the job's creation time), nothing read when none waits that long.
   */
  async waitingSince(pool: string, queuedBefore: Date, limit: number): Promise<NoticeImage[]> {
    const found: NoticeImage[] = [];
    let start: Record<string, AttributeValue> | undefined;
    let pages = 0;
    do {
      const page = await this.table.send(`querying ${QUEUE.name}`, () =>
        this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: QUEUE.name,
            KeyConditionExpression: '#pool = :pool AND #sort < :before',
            FilterExpression: 'attribute_not_exists(#notice)',
            ExpressionAttributeNames: { '#pool': QUEUE.partitionKey.name, '#sort': QUEUE.sortKey.name, '#notice': 'notice' },
            ExpressionAttributeValues: { ':pool': { S: pool }, ':before': { S: queuedBefore.toISOString() } },
            ExclusiveStartKey: start,
            Limit: 100,
          }),
        ),
      );
      found.push(...(page.Items ?? []).map((item) => unmarshall(item) as NoticeImage));
      start = page.LastEvaluatedKey;
    } while (start && found.length < limit && ++pages < 5);
    return found.slice(0, limit);
  }

  /** Runner slots the pool has in flight (a count of the slots index). */
  inFlight(pool: string): Promise<number> {
    return this.table.count(SLOTS.name, SLOTS.partitionKey.name, pool);
  }
}
