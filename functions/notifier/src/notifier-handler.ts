import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import middy from '@middy/core';
import { noticeActionOf, type NoticeImage, type Router } from '@runners/shared';
import { type DynamoDbNoticeStore } from '@runners/shared/dynamodb';
import { inJobSegment } from '@runners/shared/tracing';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent, ScheduledEvent } from 'aws-lambda';
import { openNotice, resolveNotice, type NoticeOutcome, type NoticePorts } from './notify';

export interface NotifierPorts extends NoticePorts {
  readonly router: Router;
  readonly waiting: Pick<DynamoDbNoticeStore, 'waitingSince' | 'inFlight'>;
  readonly maxWaitingPerPool: number;
  readonly tracer: Tracer;
  readonly metrics: Metrics;
}

type NotifierEvent = DynamoDBStreamEvent | ScheduledEvent;

/**
 * The notifier: Jobs table stream → a check run for each job that just got into trouble (or out of it); its tick →
 * a check run for each job waiting longer than `notices.waitingMinutes`. Jobs not in trouble cost no GitHub call.
 */
export function createNotifierHandler(ports: NotifierPorts) {
  const { logger, tracer, metrics } = ports;
  const count = (outcome: NoticeOutcome, what: string) => {
    if (outcome === 'written') metrics.addMetric(what, MetricUnit.Count, 1);
    if (outcome === 'failed') metrics.addMetric('NoticeFailures', MetricUnit.Count, 1);
  };

  const onRecord = async (record: DynamoDBRecord): Promise<void> => {
    const before = image(record.dynamodb?.OldImage);
    const after = image(record.dynamodb?.NewImage);
    if (!after) return;
    const action = noticeActionOf(before, after, ports);
    if (!action) return;
    await inJobSegment(
      tracer,
      'notice',
      { jobId: after.jobId, pool: after.job.pool, runnerName: after.runnerName, traceHeader: after.traceHeader },
      async () => {
        if (action.kind === 'open') count(await openNotice(after, action.reason, ports), 'NoticesWritten');
        else count(await resolveNotice(after, action.outcome, ports), 'NoticesResolved');
      },
    );
  };

  const onTick = async (): Promise<void> => {
    const now = ports.now();
    const waitedMs = ports.config.notices.waitingMinutes * 60_000;
    for (const pool of ports.config.pools) {
      const waiting = await ports.waiting.waitingSince(pool.name, new Date(now.getTime() - waitedMs), ports.maxWaitingPerPool);
      if (waiting.length === 0) continue;
      const inFlight = await ports.waiting.inFlight(pool.name);
      for (const job of waiting) {
        const since = Date.parse(job.job.createdAt ?? job.job.firstSeenAt);
        const wait = { inFlight, waitedMinutes: Math.floor((now.getTime() - since) / 60_000) };
        await inJobSegment(tracer, 'notice', { jobId: job.jobId, pool: pool.name, traceHeader: job.traceHeader }, async () =>
          count(await openNotice(job, 'waiting', ports, wait), 'NoticesWritten'),
        );
      }
    }
  };

  const handle = async (event: NotifierEvent, context: Context): Promise<DynamoDBBatchResponse | void> => {
    // Every invocation counts something, so the metrics flush is never empty (Powertools warns on an empty one).
    if (!('Records' in event)) {
      metrics.addMetric('NoticeTicks', MetricUnit.Count, 1);
      if (ports.config.notices.checkRuns) await onTick();
      return;
    }
    metrics.addMetric('StreamRecords', MetricUnit.Count, event.Records.length);
    return processPartialResponse(event, onRecord, new BatchProcessor(EventType.DynamoDBStreams), { context });
  };

  return middy<NotifierEvent, DynamoDBBatchResponse | void, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(captureLambdaHandler(tracer, { captureResponse: false }))
    .use(logMetrics(metrics))
    .handler(handle);
}

/** A job record's image; anything else in the table (pool records, deliveries) is not the notifier's. */
function image(raw: Record<string, unknown> | undefined): NoticeImage | undefined {
  if (!raw) return undefined;
  const item = unmarshall(raw as Record<string, AttributeValue>) as NoticeImage & { pk?: string };
  return typeof item.pk === 'string' && item.pk.startsWith('JOB#') && item.job ? item : undefined;
}
