import { LambdaEventSourceMapping } from '@cdktf/provider-aws/lib/lambda-event-source-mapping';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import type { EventSourceSpec, StreamTableResource } from '@runners/shared/deployment';
import type { Construct } from 'constructs';
import { DEAD_LETTER_RETENTION_SECONDS } from './dispatch-topology';
import type { TracedFunction } from './traced-function';

/*
 * A function fed by the Jobs table's stream (the messenger, the notifier): the event source mapping with its
 * contract's batch settings, partial batch failures, bisection, and a DLQ for batches that failed every retry (as
 * pointers to the records, which the stream keeps 24 h). The DLQ exists before the function, whose role sends to it.
 */
export function streamDeadLetters(scope: Construct, name: string): SqsQueue {
  return new SqsQueue(scope, 'dlq', { name, messageRetentionSeconds: DEAD_LETTER_RETENTION_SECONDS, sqsManagedSseEnabled: true });
}

export function streamMapping(
  scope: Construct,
  fn: TracedFunction,
  props: { readonly jobsTable: StreamTableResource; readonly eventSources: readonly EventSourceSpec[]; readonly deadLetters: SqsQueue },
): LambdaEventSourceMapping {
  const stream = props.eventSources.find((s) => s.kind === 'dynamodb-stream');
  if (stream?.kind !== 'dynamodb-stream') throw new Error(`${fn.node.id} has no dynamodb-stream event source`);
  return new LambdaEventSourceMapping(scope, 'stream', {
    eventSourceArn: props.jobsTable.streamArn,
    functionName: fn.function.arn,
    startingPosition: 'LATEST',
    batchSize: stream.batchSize,
    maximumBatchingWindowInSeconds: stream.maximumBatchingWindowSeconds,
    functionResponseTypes: ['ReportBatchItemFailures'],
    bisectBatchOnFunctionError: true,
    maximumRetryAttempts: stream.maximumRetryAttempts,
    destinationConfig: { onFailure: { destinationArn: props.deadLetters.arn } },
  });
}
