import {
  CreateTableCommand,
  DynamoDBClient,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
  type CreateTableCommandInput,
} from '@aws-sdk/client-dynamodb';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { JOBS_TABLE, jobsTableKeyAttributes } from '@runners/shared';
import type { AwsTarget } from './aws-target';

/** The Jobs table as CreateTable input, from the same definition the stacks synthesize. */
export function jobsTableCreateInput(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: jobsTableKeyAttributes().map((a) => ({ AttributeName: a.name, AttributeType: a.type })),
    KeySchema: [{ AttributeName: JOBS_TABLE.partitionKey.name, KeyType: 'HASH' }],
    GlobalSecondaryIndexes: Object.values(JOBS_TABLE.indexes).map((index) => ({
      IndexName: index.name,
      KeySchema: [
        { AttributeName: index.partitionKey.name, KeyType: 'HASH' },
        { AttributeName: index.sortKey.name, KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'ALL' },
    })),
    StreamSpecification: { StreamEnabled: true, StreamViewType: JOBS_TABLE.streamView },
  };
}

/** Creates the Jobs table (idempotent) with its stream, indexes and TTL. */
export async function provisionJobsTable(target: AwsTarget, tableName: string): Promise<void> {
  const client = new DynamoDBClient(target.clientConfig);
  try {
    await client.send(new CreateTableCommand(jobsTableCreateInput(tableName)));
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  await client.send(
    new UpdateTimeToLiveCommand({ TableName: tableName, TimeToLiveSpecification: { AttributeName: JOBS_TABLE.ttlAttribute, Enabled: true } }),
  );
  client.destroy();
}

/** Stores the webhook secret as an SSM SecureString, where the producer reads it in AWS too. */
export async function provisionWebhookSecret(target: AwsTarget, name: string, secret: string): Promise<void> {
  const client = new SSMClient(target.clientConfig);
  await client.send(new PutParameterCommand({ Name: name, Value: secret, Type: 'SecureString', Overwrite: true }));
  client.destroy();
}
