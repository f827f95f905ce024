import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as StreamRecord,
} from '@aws-sdk/client-dynamodb-streams';
import type { AwsTarget } from '../aws-target';
import { pollingLoop, type EventSource, type Invoke } from './event-source';

/*
 * Lambda's DynamoDB Streams event source mapping, on moto: polls every shard, invokes with batches of up to
 * `batchSize` records in the Lambda event shape, and on failure retries from the failed record — the whole batch when
 * the function throws, from the reported sequence number on a partial batch failure — up to `maxRetries` times.
 */

export interface StreamSourceOptions {
  readonly target: AwsTarget;
  /** Who reads the stream: the function's role on AWS (default: target). */
  readonly reader?: AwsTarget;
  readonly tableName: string;
  readonly invoke: Invoke;
  readonly batchSize?: number;
  /** LATEST: only changes after start (Lambda's usual choice); TRIM_HORIZON: everything still in the stream. */
  readonly startingPosition?: 'LATEST' | 'TRIM_HORIZON';
  readonly maxRetries?: number;
  readonly idleMs?: number;
  readonly onError?: (error: unknown) => void;
}

interface ShardCursor {
  iterator?: string;
  /** Retry from here after a failure. */
  retryFrom?: string;
  retries: number;
  /** The highest sequence number delivered successfully: never delivered again. */
  delivered?: bigint;
}

export async function createStreamSource(options: StreamSourceOptions): Promise<EventSource> {
  const { target, tableName, invoke } = options;
  const batchSize = options.batchSize ?? 100;
  const maxRetries = options.maxRetries ?? 10;
  const onError = options.onError ?? ((error) => console.error(`[stream ${tableName}]`, error));
  const dynamodb = new DynamoDBClient(target.clientConfig);
  // The event source mapping reads the stream with the function's role (its ReadStream statement).
  const streams = new DynamoDBStreamsClient((options.reader ?? target).clientConfig);
  const table = await dynamodb.send(new DescribeTableCommand({ TableName: tableName }));
  const streamArn = table.Table?.LatestStreamArn;
  if (!streamArn) throw new Error(`table ${tableName} has no stream`);
  const cursors = new Map<string, ShardCursor>();

  const discoverShards = async (position: 'LATEST' | 'TRIM_HORIZON') => {
    const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
    for (const shard of StreamDescription?.Shards ?? []) {
      if (cursors.has(shard.ShardId!)) continue;
      const { ShardIterator } = await streams.send(new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shard.ShardId, ShardIteratorType: position }));
      cursors.set(shard.ShardId!, { iterator: ShardIterator, retries: 0 });
    }
  };
  await discoverShards(options.startingPosition ?? 'LATEST');

  const toEvent = (records: StreamRecord[]) => ({
    Records: records.map((record) => ({
      eventID: record.eventID,
      eventName: record.eventName,
      eventVersion: record.eventVersion,
      eventSource: 'aws:dynamodb',
      awsRegion: target.region,
      eventSourceARN: streamArn,
      dynamodb: {
        ...record.dynamodb,
        ApproximateCreationDateTime: record.dynamodb?.ApproximateCreationDateTime
          ? Math.floor(new Date(record.dynamodb.ApproximateCreationDateTime).getTime() / 1000)
          : undefined,
      },
    })),
  });

  const pollShard = async (shardId: string, cursor: ShardCursor): Promise<number> => {
    if (cursor.retryFrom) {
      const { ShardIterator } = await streams.send(
        new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shardId, ShardIteratorType: 'AT_SEQUENCE_NUMBER', SequenceNumber: cursor.retryFrom }),
      );
      cursor.iterator = ShardIterator;
    }
    if (!cursor.iterator) return 0;
    let page = await streams.send(new GetRecordsCommand({ ShardIterator: cursor.iterator, Limit: batchSize }));
    // moto can hand out records again (and loop on them); Lambda delivers a record that succeeded once only, so
    // records at or below the last delivered sequence number are skipped, pages of them passed over (boundedly).
    const fresh = (p: typeof page) => (p.Records ?? []).filter((r) => cursor.delivered === undefined || BigInt(r.dynamodb!.SequenceNumber!) > cursor.delivered);
    let records = fresh(page);
    for (let skipped = 0; records.length === 0 && (page.Records ?? []).length > 0 && page.NextShardIterator && skipped < 100; skipped++) {
      page = await streams.send(new GetRecordsCommand({ ShardIterator: page.NextShardIterator, Limit: batchSize }));
      records = fresh(page);
    }
    if (records.length === 0) {
      cursor.iterator = page.NextShardIterator;
      cursor.retryFrom = undefined;
      return 0;
    }
    let failedAt: string | undefined;
    try {
      const result = (await invoke(toEvent(records))) as { batchItemFailures?: { itemIdentifier: string }[] } | undefined;
      failedAt = result?.batchItemFailures?.[0]?.itemIdentifier;
    } catch (error) {
      onError(error);
      failedAt = records[0]!.dynamodb!.SequenceNumber;
    }
    const succeeded = failedAt === undefined ? records : records.filter((r) => BigInt(r.dynamodb!.SequenceNumber!) < BigInt(failedAt!));
    const last = succeeded.at(-1)?.dynamodb?.SequenceNumber;
    if (last !== undefined) cursor.delivered = BigInt(last);
    if (failedAt === undefined || cursor.retries >= maxRetries) {
      if (failedAt !== undefined) {
        onError(new Error(`dropping stream records from ${failedAt} after ${maxRetries} retries`));
        cursor.delivered = BigInt(records.at(-1)!.dynamodb!.SequenceNumber!);
      }
      cursor.iterator = page.NextShardIterator;
      cursor.retryFrom = undefined;
      cursor.retries = 0;
    } else {
      cursor.retryFrom = failedAt;
      cursor.retries++;
    }
    return records.length;
  };

  const pollOnce = async (): Promise<number> => {
    let delivered = 0;
    for (const [shardId, cursor] of cursors) delivered += await pollShard(shardId, cursor);
    return delivered;
  };
  const loop = pollingLoop(pollOnce, options.idleMs ?? 100, onError);

  return {
    name: `stream:${tableName}`,
    async drain() {
      let total = 0;
      for (let n = await pollOnce(); n > 0; n = await pollOnce()) total += n;
      return total;
    },
    start: loop.start,
    async stop() {
      await loop.stop();
      dynamodb.destroy();
      streams.destroy();
    },
  };
}
