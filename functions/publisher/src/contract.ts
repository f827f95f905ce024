import {
  defineContract,
  publishEncrypted,
  tableAndIndexes,
  type MessagesKeyResource,
  type TableResource,
  type TopicResource,
} from '@runners/shared/deployment';
import * as z from 'zod';

/** The publisher's deployment contract: flow control, notified through the Publisher topic and ticked every minute. */

export interface PublisherResources extends MessagesKeyResource {
  readonly jobsTable: TableResource;
  readonly jobsTopic: TopicResource;
  readonly publisherTopic: TopicResource;
}

const environment = z.object({
  JOBS_TABLE_NAME: z.string().min(1),
  JOBS_TOPIC_ARN: z.string().startsWith('arn:'),
  PUBLISHER_TOPIC_ARN: z.string().startsWith('arn:'),
  LAUNCHES_PER_ROUND: z.coerce.number().int().min(1).max(1_000).default(100),
  QUEUE_WINDOW: z.coerce.number().int().min(10).max(10_000).default(1_000),
});

export const publisherContract = defineContract({
  function: 'publisher',
  description: 'flow control: capacity, fair share, launches and teardowns',
  environment,
  environmentFor: (r: PublisherResources) => ({
    JOBS_TABLE_NAME: r.jobsTable.name,
    JOBS_TOPIC_ARN: r.jobsTopic.arn,
    PUBLISHER_TOPIC_ARN: r.publisherTopic.arn,
  }),
  permissions: (r: PublisherResources) => [
    {
      sid: 'Jobs',
      actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query'],
      resources: tableAndIndexes(r.jobsTable),
      why: "pools' queues and finished jobs (indexes), slots and launch logs (conditional writes)",
    },
    { sid: 'WarmSlots', actions: ['dynamodb:DeleteItem'], resources: [r.jobsTable.arn], why: 'a queued warm slot no longer wanted (conditional)' },
    { sid: 'Dispatch', actions: ['sns:Publish'], resources: [r.jobsTopic.arn, r.publisherTopic.arn], why: 'launch and teardown messages; re-notifying itself' },
    publishEncrypted(r.messagesKey, r.region),
  ],
  timeoutSeconds: 60,
  eventSources: [
    { kind: 'sns-topic', topic: 'publisherTopic' },
    { kind: 'schedule', name: 'tick', everyMinutes: 1, description: 'publisher round for backoffs and lost notifications' },
  ],
});

export type PublisherEnvironment = z.output<typeof environment>;
