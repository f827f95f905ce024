import { JOBS_TABLE } from '@runners/shared';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import * as z from 'zod';

/*
 * What in a Jobs table change the publisher must act on, and for which pool:
 *   queued     a job entered a pool's queue index (new work; not a requeue by the publisher, which the tick retries);
 *   finished   a completed job entered the finished index (a runner to tear down, a slot to free);
 *   released   a slot was freed by someone other than the publisher (an orchestrator's failed launch or teardown).
 * The publisher's own writes (dispatching, freeing slots it freed itself) are not acted on: no feedback loop.
 */

export type ChangeReason = 'queued' | 'finished' | 'released';

export interface PoolChange {
  readonly pool: string;
  readonly reason: ChangeReason;
  readonly jobId?: number;
  /** The job's trace: the messenger records its part in it (a stream carries no trace context by itself). */
  readonly traceHeader?: string;
}

const { queuedByPool, finishedByPool, slotsByPool } = JOBS_TABLE.indexes;

/** The few attributes read from a stream image; anything else in it is ignored. */
const imageSchema = z
  .object({
    pk: z.string(),
    [queuedByPool.partitionKey.name]: z.string().optional(),
    [finishedByPool.partitionKey.name]: z.string().optional(),
    [slotsByPool.partitionKey.name]: z.string().optional(),
    slotReleasedBy: z.string().optional(),
    state: z.string().optional(),
    jobId: z.number().optional(),
    traceHeader: z.string().optional(),
  })
  .loose();
type Image = z.output<typeof imageSchema>;

function image(raw: Record<string, unknown> | undefined): Image | undefined {
  if (!raw) return undefined;
  return imageSchema.parse(unmarshall(raw as Record<string, AttributeValue>));
}

const appeared = (key: string, before: Image | undefined, after: Image | undefined): string | undefined =>
  after?.[key] !== undefined && before?.[key] === undefined ? (after[key] as string) : undefined;

/** The changes of one stream record; throws on an image that is not a Jobs table item. */
export function poolChanges(record: DynamoDBRecord): PoolChange[] {
  const before = image(record.dynamodb?.OldImage as Record<string, unknown> | undefined);
  const after = image(record.dynamodb?.NewImage as Record<string, unknown> | undefined);
  if (!(after ?? before)?.pk.startsWith('JOB#')) return [];
  const changes: PoolChange[] = [];
  const queued = appeared(queuedByPool.partitionKey.name, before, after);
  // A job the publisher put back (its launch could not be published) waits for the tick: a broken topic must not
  // turn into a tight retry loop.
  if (queued && before?.state !== 'dispatched') changes.push({ pool: queued, reason: 'queued' });
  const finished = appeared(finishedByPool.partitionKey.name, before, after);
  if (finished) changes.push({ pool: finished, reason: 'finished' });
  const slot = before?.[slotsByPool.partitionKey.name] as string | undefined;
  if (slot && after && after[slotsByPool.partitionKey.name] === undefined && after.slotReleasedBy !== 'publisher') {
    changes.push({ pool: slot, reason: 'released' });
  }
  const job = after ?? before;
  return changes.map((change) => ({
    ...change,
    ...(job?.jobId !== undefined ? { jobId: job.jobId } : {}),
    ...(job?.traceHeader ? { traceHeader: job.traceHeader } : {}),
  }));
}
