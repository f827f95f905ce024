import { BatchProcessor, EventType } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import { type DispatchBus } from '@runners/shared';
import { recordJobStage } from '@runners/shared/tracing';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { poolChanges, type ChangeReason } from './stream-changes';

export interface MessengerPorts {
  readonly bus: Pick<DispatchBus, 'notifyPublisher'>;
  readonly traceHeader: () => string | undefined;
  readonly logger: Logger;
  readonly tracer: Tracer;
  readonly metrics: Metrics;
}

/**
 * The messenger: a batch of Jobs table stream records → at most one notification to the publisher, naming the pools
 * with work. If that notification cannot be sent, the batch is reported failed from its first record with work, so
 * Lambda retries from there (the records before it needed nothing).
 */
export function createMessengerHandler(ports: MessengerPorts) {
  const { logger, tracer, metrics } = ports;

  const relay = async (event: DynamoDBStreamEvent, context: Context): Promise<DynamoDBBatchResponse> => {
    const processor = new BatchProcessor(EventType.DynamoDBStreams);
    const pools = new Set<string>();
    const reasons: Partial<Record<ChangeReason, number>> = {};
    const finished = new Set<string>();
    let firstWithWork: string | undefined;

    const classify = (record: DynamoDBRecord): void => {
      let changes;
      try {
        changes = poolChanges(record);
      } catch (error) {
        // Not a Jobs table item: retrying would fail forever and block the shard behind it. Skip it, loudly.
        logger.error('skipping a stream record that is not a job', { eventID: record.eventID, error });
        return;
      }
      for (const change of changes) {
        pools.add(change.pool);
        reasons[change.reason] = (reasons[change.reason] ?? 0) + 1;
        if (change.reason === 'finished') finished.add(change.pool);
        // The job's trace: when the stream brought this change (the table wrote it at ApproximateCreationDateTime).
        if (change.jobId !== undefined) {
          recordJobStage(tracer, `stream:${change.reason}`, { jobId: change.jobId, pool: change.pool, traceHeader: change.traceHeader }, Date.now(), {
            stream: { writtenAt: record.dynamodb?.ApproximateCreationDateTime },
          });
        }
      }
      if (changes.length > 0) firstWithWork ??= record.dynamodb?.SequenceNumber;
    };

    processor.register(event.Records, classify, { context });
    await processor.process();
    metrics.addMetric('StreamRecords', MetricUnit.Count, event.Records.length);
    if (pools.size === 0) return processor.response();

    try {
      await ports.bus.notifyPublisher({
        kind: 'pools-changed',
        pools: [...pools].sort(),
        reasons,
        finished: [...finished].sort(),
        traceHeader: ports.traceHeader(),
      });
    } catch (error) {
      logger.error('notifying the publisher failed; the batch will be retried', { error });
      return { batchItemFailures: [{ itemIdentifier: firstWithWork! }] };
    }
    metrics.addMetric('PublisherNotifications', MetricUnit.Count, 1);
    logger.info('publisher notified', { pools: [...pools], reasons, records: event.Records.length });
    return processor.response();
  };

  return middy<DynamoDBStreamEvent, DynamoDBBatchResponse, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(captureLambdaHandler(tracer, { captureResponse: false }))
    .use(logMetrics(metrics))
    .handler(relay);
}
