import { ConditionalCheckFailedException, GetItemCommand, PutItemCommand, UpdateItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { JOBS_TABLE } from '../../jobs/jobs-table';
import { nextRedeliveryAt, REDELIVERY_LIMIT_MS, type DeliveryLog, type RedeliveryBackoff } from '../../deliveries/redelivery';

/* The DeliveryLog in the Jobs table: an item per redelivered GUID (`DELIVERY#<guid>`) with its attempts and the time
 * its next redelivery may go, gone with the TTL after GitHub has forgotten the delivery too (it keeps three days). */

const KEEP_SECONDS = 4 * 24 * 3600;
const PK = JOBS_TABLE.partitionKey.name;

export class DynamoDbDeliveryLog implements DeliveryLog {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async claim(guid: string, deliveryId: number, now: Date, backoff: RedeliveryBackoff): Promise<'claimed' | 'waiting' | 'expired'> {
    const key = { [PK]: { S: `DELIVERY#${guid}` } };
    const { Item: item } = await this.client.send(new GetItemCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }));
    const attempts = Number(item?.attempts?.N ?? 0);
    const firstAt = item?.firstRedeliveredAt?.S ?? now.toISOString();
    if (item && now.getTime() - Date.parse(firstAt) > REDELIVERY_LIMIT_MS) return 'expired';
    if (item && Number(item.nextRedeliveryAt?.N ?? 0) > now.getTime()) return 'waiting';
    const next = nextRedeliveryAt(attempts + 1, now, backoff);
    try {
      // Conditional on what was read: of two passes, only one takes this attempt.
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: {
            ...key,
            deliveryId: { N: String(deliveryId) },
            attempts: { N: String(attempts + 1) },
            firstRedeliveredAt: { S: firstAt },
            redeliveredAt: { S: now.toISOString() },
            nextRedeliveryAt: { N: String(next) },
            [JOBS_TABLE.ttlAttribute]: { N: String(Math.floor(now.getTime() / 1000) + KEEP_SECONDS) },
          },
          // An entry written before attempts were counted has none: it counts as 0.
          ConditionExpression: item ? (item.attempts ? '#attempts = :attempts' : 'attribute_not_exists(#attempts)') : 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: item ? { '#attempts': 'attempts' } : { '#pk': PK },
          ...(item?.attempts ? { ExpressionAttributeValues: { ':attempts': { N: String(attempts) } } } : {}),
        }),
      );
      return 'claimed';
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return 'waiting';
      throw error;
    }
  }

  async release(guid: string): Promise<void> {
    // Due again at once; the attempt it claimed is not counted.
    await this.client
      .send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { [PK]: { S: `DELIVERY#${guid}` } },
          UpdateExpression: 'SET #next = :zero, #attempts = #attempts - :one',
          ConditionExpression: 'attribute_exists(#pk)',
          ExpressionAttributeNames: { '#next': 'nextRedeliveryAt', '#attempts': 'attempts', '#pk': PK },
          ExpressionAttributeValues: { ':zero': { N: '0' }, ':one': { N: '1' } },
        }),
      )
      .catch((error: unknown) => {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      });
  }
}
