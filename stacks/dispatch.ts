import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic';
import { SnsTopicSubscription } from '@cdktf/provider-aws/lib/sns-topic-subscription';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import { SqsQueuePolicy } from '@cdktf/provider-aws/lib/sqs-queue-policy';
import { Construct } from 'constructs';
import { DEAD_LETTER_RETENTION_SECONDS, MAX_RECEIVES, POOL_QUEUE_VISIBILITY_SECONDS, type DispatchTopology } from './dispatch-topology';

export interface PoolQueueResources {
  readonly queue: SqsQueue;
  readonly deadLetterQueue: SqsQueue;
}

/**
 * The dispatch topology (see dispatch-topology.ts): Publisher topic, Jobs topic, and per pool a queue + DLQ
 * subscribed to the Jobs topic with a filter policy on `pool`, raw delivery. The functions that use them (messenger,
 * publisher, orchestrators) attach to these resources.
 */
export class Dispatch extends Construct {
  readonly publisherTopic: SnsTopic;
  readonly jobsTopic: SnsTopic;
  readonly poolQueues: ReadonlyMap<string, PoolQueueResources>;

  constructor(scope: Construct, id: string, topology: DispatchTopology, messagesKeyArn: string) {
    super(scope, id);
    // Active tracing: the trace of a notification continues into the function it invokes. Encrypted at rest.
    this.publisherTopic = new SnsTopic(this, 'publisher-topic', { name: topology.publisherTopicName, tracingConfig: 'Active', kmsMasterKeyId: messagesKeyArn });
    this.jobsTopic = new SnsTopic(this, 'jobs-topic', { name: topology.jobsTopicName, tracingConfig: 'Active', kmsMasterKeyId: messagesKeyArn });

    const poolQueues = new Map<string, PoolQueueResources>();
    for (const poolQueue of topology.poolQueues) {
      const deadLetterQueue = new SqsQueue(this, `${poolQueue.pool}-dlq`, {
        name: poolQueue.deadLetterQueueName,
        messageRetentionSeconds: DEAD_LETTER_RETENTION_SECONDS,
        sqsManagedSseEnabled: true,
      });
      const queue = new SqsQueue(this, `${poolQueue.pool}-queue`, {
        name: poolQueue.queueName,
        visibilityTimeoutSeconds: POOL_QUEUE_VISIBILITY_SECONDS,
        redrivePolicy: JSON.stringify({ deadLetterTargetArn: deadLetterQueue.arn, maxReceiveCount: MAX_RECEIVES }),
        sqsManagedSseEnabled: true,
      });
      // Only the Jobs topic may send to a pool queue.
      const policy = new DataAwsIamPolicyDocument(this, `${poolQueue.pool}-queue-policy-document`, {
        statement: [
          {
            effect: 'Allow',
            principals: [{ type: 'Service', identifiers: ['sns.amazonaws.com'] }],
            actions: ['sqs:SendMessage'],
            resources: [queue.arn],
            condition: [{ test: 'ArnEquals', variable: 'aws:SourceArn', values: [this.jobsTopic.arn] }],
          },
        ],
      });
      new SqsQueuePolicy(this, `${poolQueue.pool}-queue-policy`, { queueUrl: queue.url, policy: policy.json });
      new SnsTopicSubscription(this, `${poolQueue.pool}-subscription`, {
        topicArn: this.jobsTopic.arn,
        protocol: 'sqs',
        endpoint: queue.arn,
        rawMessageDelivery: true,
        filterPolicy: JSON.stringify(poolQueue.filterPolicy),
        filterPolicyScope: 'MessageAttributes',
      });
      poolQueues.set(poolQueue.pool, { queue, deadLetterQueue });
    }
    this.poolQueues = poolQueues;
  }
}
