import { ConditionalCheckFailedException, DeleteItemCommand, PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { JOBS_TABLE } from '../jobs/jobs-table';
import type { DeliveryLog } from './redelivery';

/* The DeliveryLog in the Jobs table: an item per redelivered GUID (`DELIVERY#<guid>`), gone with the TTL after GitHub
 * has forgotten the delivery too (it keeps deliveries three days). */

const KEEP_SECONDS = 4 * 24 * 3600;

export class DynamoDbDeliveryLog implements DeliveryLog {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async remember(guid: string, deliveryId: number, now: Date): Promise<boolean> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: {
            [JOBS_TABLE.partitionKey.name]: { S: `DELIVERY#${guid}` },
            deliveryId: { N: String(deliveryId) },
            redeliveredAt: { S: now.toISOString() },
            [JOBS_TABLE.ttlAttribute]: { N: String(Math.floor(now.getTime() / 1000) + KEEP_SECONDS) },
          },
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': JOBS_TABLE.partitionKey.name },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async forget(guid: string): Promise<void> {
    await this.client.send(new DeleteItemCommand({ TableName: this.tableName, Key: { [JOBS_TABLE.partitionKey.name]: { S: `DELIVERY#${guid}` } } }));
  }
}
