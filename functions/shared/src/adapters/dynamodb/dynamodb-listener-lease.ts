import { ConditionalCheckFailedException, GetItemCommand, UpdateItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { JOBS_TABLE } from '../../jobs/jobs-table';
import { listenerKey, type LeaseAttempt, type ListenerLease, type ListenerState } from '../../jobs/listener-lease';

/* The listeners' leases in the Jobs table: an item per scale-set pool (`LISTENER#<pool>`), no TTL (one per pool). */

const PK = JOBS_TABLE.partitionKey.name;

const stateValues = (state: ListenerState): Record<string, AttributeValue> => ({
  ':scaleSetId': state.scaleSetId === undefined ? { NULL: true } : { N: String(state.scaleSetId) },
  ':sessionId': state.sessionId === undefined ? { NULL: true } : { S: state.sessionId },
  ':withdrawals': { M: Object.fromEntries(Object.entries(state.withdrawals).map(([id, at]) => [id, { N: String(at) }])) },
});

function stateOf(item: Record<string, AttributeValue> | undefined): ListenerState {
  return {
    ...(item?.scaleSetId?.N ? { scaleSetId: Number(item.scaleSetId.N) } : {}),
    ...(item?.sessionId?.S ? { sessionId: item.sessionId.S } : {}),
    withdrawals: Object.fromEntries(Object.entries(item?.withdrawals?.M ?? {}).map(([id, at]) => [id, Number(at.N)])),
  };
}

export class DynamoDbListenerLease implements ListenerLease {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async acquire(pool: string, holder: string, nowMs: number, leaseUntil: number, handoverAt: number): Promise<LeaseAttempt> {
    const key = { [PK]: { S: listenerKey(pool) } };
    try {
      const { Attributes: previous } = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: 'SET #holder = :holder, #leaseUntil = :leaseUntil, #handoverAt = :handoverAt, #takenAt = :now',
          ConditionExpression: 'attribute_not_exists(#pk) OR #leaseUntil < :now OR #holder = :holder',
          ExpressionAttributeNames: { '#pk': PK, '#holder': 'holder', '#leaseUntil': 'leaseUntil', '#handoverAt': 'handoverAt', '#takenAt': 'takenAt' },
          ExpressionAttributeValues: {
            ':holder': { S: holder },
            ':leaseUntil': { N: String(leaseUntil) },
            ':handoverAt': { N: String(handoverAt) },
            ':now': { N: String(nowMs) },
          },
          ReturnValues: 'ALL_OLD',
        }),
      );
      return { acquired: true, state: stateOf(previous) };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const { Item: item } = await this.client.send(new GetItemCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }));
      return {
        acquired: false,
        held: {
          holder: item?.holder?.S ?? '',
          leaseUntil: Number(item?.leaseUntil?.N ?? 0),
          ...(item?.handoverAt?.N ? { handoverAt: Number(item.handoverAt.N) } : {}),
        },
      };
    }
  }

  async renew(pool: string, holder: string, leaseUntil: number, state: ListenerState): Promise<boolean> {
    return this.write(pool, holder, 'SET #leaseUntil = :leaseUntil, #scaleSetId = :scaleSetId, #sessionId = :sessionId, #withdrawals = :withdrawals', {
      ':leaseUntil': { N: String(leaseUntil) },
      ...stateValues(state),
    });
  }

  async release(pool: string, holder: string, state: ListenerState): Promise<void> {
    await this.write(pool, holder, 'SET #leaseUntil = :zero, #scaleSetId = :scaleSetId, #sessionId = :sessionId, #withdrawals = :withdrawals', {
      ':zero': { N: '0' },
      ...stateValues(state),
    });
  }

  private async write(pool: string, holder: string, update: string, values: Record<string, AttributeValue>): Promise<boolean> {
    const names: Record<string, string> = { '#holder': 'holder' };
    for (const name of ['leaseUntil', 'scaleSetId', 'sessionId', 'withdrawals']) if (update.includes(`#${name}`)) names[`#${name}`] = name;
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { [PK]: { S: listenerKey(pool) } },
          UpdateExpression: update,
          ConditionExpression: '#holder = :holder',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: { ':holder': { S: holder }, ...values },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}
