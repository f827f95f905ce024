import { LambdaEventSourceMapping } from '@cdktf/provider-aws/lib/lambda-event-source-mapping';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import type { MessagesKeyResource, StreamTableResource, TopicResource } from '@runners/shared/deployment';
import { Construct } from 'constructs';
import { messengerContract } from '../functions/messenger/src/contract';
import { DEAD_LETTER_RETENTION_SECONDS } from './dispatch-topology';
import { bindContract, TracedFunction } from './traced-function';

/* Jobs table stream → messenger → one publisher notification per batch. */

export interface MessengerProps extends MessagesKeyResource {
  readonly prefix: string;
  readonly jobsTable: StreamTableResource;
  readonly publisherTopic: TopicResource;
}

const stream = messengerContract.eventSources.find((s) => s.kind === 'dynamodb-stream')!;

export class Messenger extends Construct {
  readonly function: TracedFunction;
  /** Stream batches that failed every retry land here (as pointers to the records, which the stream keeps 24 h). */
  readonly deadLetterQueue: SqsQueue;

  constructor(scope: Construct, id: string, props: MessengerProps) {
    super(scope, id);
    this.deadLetterQueue = new SqsQueue(this, 'dlq', { name: `${props.prefix}-messenger-dlq`, messageRetentionSeconds: DEAD_LETTER_RETENTION_SECONDS, sqsManagedSseEnabled: true });
    this.function = new TracedFunction(this, 'messenger', {
      prefix: props.prefix,
      code: { bundle: 'messenger' },
      deployment: bindContract(messengerContract, { ...props, deadLetterQueue: { arn: this.deadLetterQueue.arn } }),
    });
    new LambdaEventSourceMapping(this, 'stream', {
      eventSourceArn: props.jobsTable.streamArn,
      functionName: this.function.function.arn,
      startingPosition: 'LATEST',
      batchSize: stream.batchSize,
      maximumBatchingWindowInSeconds: stream.maximumBatchingWindowSeconds,
      functionResponseTypes: ['ReportBatchItemFailures'],
      bisectBatchOnFunctionError: true,
      maximumRetryAttempts: stream.maximumRetryAttempts,
      destinationConfig: { onFailure: { destinationArn: this.deadLetterQueue.arn } },
    });
  }
}
