import {
  defineContract,
  readStream,
  publishEncrypted,
  type MessagesKeyResource,
  type QueueResource,
  type StreamTableResource,
  type TopicResource,
} from '@runners/shared/deployment';
import * as z from 'zod';

/** The messenger's deployment contract: the Jobs table's stream → one publisher notification per batch. */

export interface MessengerResources extends MessagesKeyResource {
  readonly jobsTable: StreamTableResource;
  readonly publisherTopic: TopicResource;
  /** Stream batches that failed every retry (the event source mapping's on-failure destination). */
  readonly deadLetterQueue: QueueResource;
}

const environment = z.object({
  PUBLISHER_TOPIC_ARN: z.string().startsWith('arn:'),
});

export const messengerContract = defineContract({
  function: 'messenger',
  description: 'Jobs table stream to publisher notifications',
  environment,
  environmentFor: (r: MessengerResources) => ({ PUBLISHER_TOPIC_ARN: r.publisherTopic.arn }),
  permissions: (r: MessengerResources) => [
    readStream(r.jobsTable),
    { sid: 'Notify', actions: ['sns:Publish'], resources: [r.publisherTopic.arn], why: 'one notification per batch' },
    publishEncrypted(r.messagesKey, r.region),
    { sid: 'FailedBatches', actions: ['sqs:SendMessage'], resources: [r.deadLetterQueue.arn], why: 'the mapping sends batches that failed every retry' },
  ],
  timeoutSeconds: 30,
  eventSources: [{ kind: 'dynamodb-stream', batchSize: 100, maximumBatchingWindowSeconds: 1, maximumRetryAttempts: 10 }],
});

export type MessengerEnvironment = z.output<typeof environment>;
