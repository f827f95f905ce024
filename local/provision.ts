import { CreateTableCommand, DynamoDBClient, ResourceInUseException, UpdateTimeToLiveCommand, type CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { CreateAliasCommand, CreateKeyCommand, DescribeKeyCommand, KMSClient, NotFoundException } from '@aws-sdk/client-kms';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { JOBS_TABLE, jobsTableKeyAttributes } from '@runners/shared';
import { DEAD_LETTER_RETENTION_SECONDS, MAX_RECEIVES, POOL_QUEUE_VISIBILITY_SECONDS, type DispatchTopology } from '../stacks/dispatch-topology';
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
      Projection: index.projection === 'ALL' ? { ProjectionType: 'ALL' } : { ProjectionType: 'INCLUDE', NonKeyAttributes: [...index.projection.include] },
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
  await client.send(new UpdateTimeToLiveCommand({ TableName: tableName, TimeToLiveSpecification: { AttributeName: JOBS_TABLE.ttlAttribute, Enabled: true } }));
  client.destroy();
}

/** A KMS key of the stack (secrets, messages) by alias; its policy is the synthesized one, enforced by the IAM proxy. */
export async function provisionKey(target: AwsTarget, aliasName: string): Promise<{ readonly keyId: string; readonly arn: string }> {
  const kms = new KMSClient(target.clientConfig);
  try {
    const { KeyMetadata } = await kms.send(new DescribeKeyCommand({ KeyId: aliasName }));
    return { keyId: KeyMetadata!.KeyId!, arn: KeyMetadata!.Arn! };
  } catch (error) {
    if (!(error instanceof NotFoundException)) throw error;
  }
  const { KeyMetadata } = await kms.send(new CreateKeyCommand({ Description: aliasName }));
  await kms.send(new CreateAliasCommand({ AliasName: aliasName, TargetKeyId: KeyMetadata!.KeyId! }));
  kms.destroy();
  return { keyId: KeyMetadata!.KeyId!, arn: KeyMetadata!.Arn! };
}

/** Stores the webhook secret as an SSM SecureString under the secrets key, as scripts/put-secrets.sh does on AWS. */
export async function provisionWebhookSecret(target: AwsTarget, name: string, secret: string, keyId: string): Promise<void> {
  const client = new SSMClient(target.clientConfig);
  await client.send(new PutParameterCommand({ Name: name, Value: secret, Type: 'SecureString', KeyId: keyId, Overwrite: true }));
  client.destroy();
}

export interface ProvisionedQueue {
  readonly name: string;
  readonly url: string;
  readonly arn: string;
}

export interface ProvisionedTopology {
  readonly publisherTopicArn: string;
  readonly jobsTopicArn: string;
  readonly poolQueues: readonly (ProvisionedQueue & { readonly pool: string; readonly deadLetter: ProvisionedQueue })[];
  /** SNS → publisher, the local way: a queue subscribed to the Publisher topic, polled by the event source. */
  readonly publisherInbox: ProvisionedQueue;
}

async function createQueue(sqs: SQSClient, name: string, attributes: Record<string, string> = {}): Promise<ProvisionedQueue> {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  return { name, url: QueueUrl!, arn: Attributes!.QueueArn! };
}

/** Topics, per-pool queues with DLQs and filtered raw subscriptions: the same topology the stacks synthesize. */
export async function provisionDispatchTopology(
  target: AwsTarget,
  topology: DispatchTopology,
  publisherInboxName: string,
  messagesKeyId: string,
): Promise<ProvisionedTopology> {
  const sns = new SNSClient(target.clientConfig);
  const sqs = new SQSClient(target.clientConfig);
  // Encrypted with the stack's messages key, as the stacks create them.
  const topic = async (name: string) => (await sns.send(new CreateTopicCommand({ Name: name, Attributes: { KmsMasterKeyId: messagesKeyId } }))).TopicArn!;
  const publisherTopicArn = await topic(topology.publisherTopicName);
  const jobsTopicArn = await topic(topology.jobsTopicName);

  const poolQueues = [];
  for (const poolQueue of topology.poolQueues) {
    const deadLetter = await createQueue(sqs, poolQueue.deadLetterQueueName, { MessageRetentionPeriod: String(DEAD_LETTER_RETENTION_SECONDS) });
    const queue = await createQueue(sqs, poolQueue.queueName, {
      VisibilityTimeout: String(POOL_QUEUE_VISIBILITY_SECONDS),
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: deadLetter.arn, maxReceiveCount: MAX_RECEIVES }),
    });
    await sns.send(
      new SubscribeCommand({
        TopicArn: jobsTopicArn,
        Protocol: 'sqs',
        Endpoint: queue.arn,
        Attributes: { RawMessageDelivery: 'true', FilterPolicy: JSON.stringify(poolQueue.filterPolicy), FilterPolicyScope: 'MessageAttributes' },
      }),
    );
    poolQueues.push({ ...queue, pool: poolQueue.pool, deadLetter });
  }

  const publisherInbox = await createQueue(sqs, publisherInboxName, { VisibilityTimeout: '60' });
  await sns.send(new SubscribeCommand({ TopicArn: publisherTopicArn, Protocol: 'sqs', Endpoint: publisherInbox.arn }));
  sns.destroy();
  sqs.destroy();
  return { publisherTopicArn, jobsTopicArn, poolQueues, publisherInbox };
}

/** The GitHub App's id and private key as SSM parameters, where the orchestrators read them in AWS too. */
export async function provisionGitHubApp(
  target: AwsTarget,
  names: { readonly appIdName: string; readonly privateKeyName: string },
  app: { readonly appId: number; readonly privateKeyPem: string },
  keyId: string,
): Promise<void> {
  const client = new SSMClient(target.clientConfig);
  // As scripts/put-secrets.sh writes them: SecureStrings under the secrets key.
  await client.send(new PutParameterCommand({ Name: names.appIdName, Value: String(app.appId), Type: 'SecureString', KeyId: keyId, Overwrite: true }));
  await client.send(new PutParameterCommand({ Name: names.privateKeyName, Value: app.privateKeyPem, Type: 'SecureString', KeyId: keyId, Overwrite: true }));
  client.destroy();
}
