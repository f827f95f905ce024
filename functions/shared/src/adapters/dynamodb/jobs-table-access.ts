import {
  BatchGetItemCommand,
  ConditionalCheckFailedException,
  type BatchGetItemCommandOutput,
  GetItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
  type QueryCommandInput,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { StorageError } from '../../errors';
import type { JobRecord } from '../../jobs/job-record';
import { JOBS_TABLE, jobKey } from '../../jobs/jobs-table';
import type { JobWrite } from './job-record-writes';

const PK = JOBS_TABLE.partitionKey.name;

/** What the Jobs table stores share: conditional updates of job records, consistent reads, index queries. */
export class JobsTableAccess {
  constructor(
    readonly client: DynamoDBClient,
    readonly tableName: string,
  ) {}

  /** One transition of a job record (job-record-writes.ts): true when written, false when its condition did not hold. */
  async apply(jobId: number, write: JobWrite): Promise<boolean> {
    return (await this.send_(jobId, write, false)).written;
  }

  /**
   * The same, returning the record as it is after the call: as written, or as it was when the condition did not hold
   * (DynamoDB returns both with the write: no read before or after it).
   */
  applyReturning(jobId: number, write: JobWrite): Promise<{ readonly written: boolean; readonly record: JobRecord | undefined }> {
    return this.send_(jobId, write, true);
  }

  private async send_(jobId: number, { update, condition, what }: JobWrite, returning: boolean): Promise<{ written: boolean; record: JobRecord | undefined }> {
    const values = { ...update.values, ...condition.values };
    try {
      const result = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { [PK]: { S: jobKey(jobId) } },
          UpdateExpression: update.expression(),
          ConditionExpression: condition.expression,
          ExpressionAttributeNames: { ...update.names, ...condition.names },
          // DynamoDB refuses an empty value map.
          ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: marshall(values, { removeUndefinedValues: true }) } : {}),
          ...(returning ? { ReturnValues: 'ALL_NEW' as const, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const } : {}),
        }),
      );
      return { written: true, record: result.Attributes ? (unmarshall(result.Attributes) as JobRecord) : undefined };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return { written: false, record: error.Item ? (unmarshall(error.Item) as JobRecord) : undefined };
      throw new StorageError(`${what} for job ${jobId} failed`, { cause: error });
    }
  }

  async getJob(jobId: number): Promise<JobRecord | undefined> {
    const result = await this.send('reading a job', () =>
      this.client.send(new GetItemCommand({ TableName: this.tableName, Key: { [PK]: { S: jobKey(jobId) } }, ConsistentRead: true })),
    );
    return result.Item ? (unmarshall(result.Item) as JobRecord) : undefined;
  }

  /**
   * Consistent reads of these jobs' records (those that exist), only `attributes` of each (all when undefined): 100 keys per call (the
   * API's limit; it refuses duplicates), unprocessed keys asked again.
   */
  async batchGet(jobIds: readonly number[], attributes: readonly string[] | undefined, onItem: (item: Record<string, unknown>) => void): Promise<void> {
    const names = Object.fromEntries((attributes ?? []).map((a, i) => [`#a${i}`, a]));
    const projection = attributes ? { ProjectionExpression: Object.keys(names).join(', '), ExpressionAttributeNames: names } : {};
    for (let start = 0; start < jobIds.length; start += 100) {
      let keys: Record<string, AttributeValue>[] | undefined = jobIds.slice(start, start + 100).map((jobId) => ({ [PK]: { S: jobKey(jobId) } }));
      while (keys && keys.length > 0) {
        const request = { Keys: keys, ConsistentRead: true, ...projection };
        const result: BatchGetItemCommandOutput = await this.send('reading jobs', () =>
          this.client.send(new BatchGetItemCommand({ RequestItems: { [this.tableName]: request } })),
        );
        for (const raw of result.Responses?.[this.tableName] ?? []) onItem(unmarshall(raw));
        keys = result.UnprocessedKeys?.[this.tableName]?.Keys;
      }
    }
  }

  async query<T>(indexName: string, keyName: string, value: string, limit = Number.POSITIVE_INFINITY): Promise<T[]> {
    const items: T[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const input: QueryCommandInput = {
        ...this.keyQuery(indexName, keyName, value, start),
        ...(Number.isFinite(limit) ? { Limit: Math.min(1_000, limit - items.length) } : {}),
      };
      const page = await this.send(`querying ${indexName}`, () => this.client.send(new QueryCommand(input)));
      items.push(...(page.Items ?? []).map((item) => unmarshall(item) as T));
      start = page.LastEvaluatedKey;
    } while (start && items.length < limit);
    return items;
  }

  /** One page of an index's items under one key. */
  private keyQuery(indexName: string, keyName: string, value: string, start: Record<string, AttributeValue> | undefined): QueryCommandInput {
    return {
      TableName: this.tableName,
      IndexName: indexName,
      KeyConditionExpression: '#key = :value',
      ExpressionAttributeNames: { '#key': keyName },
      ExpressionAttributeValues: { ':value': { S: value } },
      ExclusiveStartKey: start,
    };
  }

  /** How many items an index holds under one key (Select COUNT: no item is read out). */
  async count(indexName: string, keyName: string, value: string): Promise<number> {
    let count = 0;
    let start: Record<string, AttributeValue> | undefined;
    do {
      const input: QueryCommandInput = { ...this.keyQuery(indexName, keyName, value, start), Select: 'COUNT' };
      const page = await this.send(`counting ${indexName}`, () => this.client.send(new QueryCommand(input)));
      count += page.Count ?? 0;
      start = page.LastEvaluatedKey;
    } while (start);
    return count;
  }

  async send<T>(what: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw new StorageError(`${what} failed`, { cause: error });
    }
  }
}
