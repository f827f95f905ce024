import { LambdaEventSourceMapping } from '@cdktf/provider-aws/lib/lambda-event-source-mapping';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import { Construct } from 'constructs';
import { DEAD_LETTER_RETENTION_SECONDS } from './dispatch-topology';
import { TracedFunction } from './traced-function';

/* Jobs table stream → messenger → one publisher notification per batch. */

export interface MessengerProps {
  readonly prefix: string;
  readonly streamArn: string;
  readonly publisherTopicArn: string;
}

export class Messenger extends Construct {
  readonly function: TracedFunction;
  /** Stream batches that failed every retry land here (as pointers to the records, which the stream keeps 24 h). */
  readonly deadLetterQueue: SqsQueue;

  constructor(scope: Construct, id: string, props: MessengerProps) {
    super(scope, id);
    this.deadLetterQueue = new SqsQueue(this, 'dlq', { name: `${props.prefix}-messenger-dlq`, messageRetentionSeconds: DEAD_LETTER_RETENTION_SECONDS, sqsManagedSseEnabled: true });
    this.function = new TracedFunction(this, 'messenger', {
      functionName: `${props.prefix}-messenger`,
      service: 'messenger',
      description: 'Jobs table stream to publisher notifications',
      code: { bundle: 'messenger' },
      timeoutSeconds: 30,
      environment: { PUBLISHER_TOPIC_ARN: props.publisherTopicArn },
      statements: [
        { sid: 'ReadStream', actions: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:ListStreams'], resources: [props.streamArn] },
        { sid: 'Notify', actions: ['sns:Publish'], resources: [props.publisherTopicArn] },
        { sid: 'FailedBatches', actions: ['sqs:SendMessage'], resources: [this.deadLetterQueue.arn] },
      ],
    });
    new LambdaEventSourceMapping(this, 'stream', {
      eventSourceArn: props.streamArn,
      functionName: this.function.function.arn,
      startingPosition: 'LATEST',
      batchSize: 100,
      maximumBatchingWindowInSeconds: 1,
      functionResponseTypes: ['ReportBatchItemFailures'],
      bisectBatchOnFunctionError: true,
      maximumRetryAttempts: 10,
      destinationConfig: { onFailure: { destinationArn: this.deadLetterQueue.arn } },
    });
  }
}
