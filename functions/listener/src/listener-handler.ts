import { randomUUID } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { listen, type ListenerPorts } from './listen';

export interface ListenerHandlerPorts extends Omit<ListenerPorts, 'holder' | 'logger' | 'onStatistics'> {
  /** Listen at most this long per invocation (ms); by default until shortly before the timeout. */
  readonly listenMs?: number;
  readonly logger: Logger;
  readonly tracer: Tracer;
  readonly metrics: Metrics;
}

/**
 * The listener, every minute: takes each scale-set pool whose lease is free (or handed over), listens until shortly
 * before its timeout, hands over. An invocation that finds every lease held ends at once.
 */
export function createListenerHandler(ports: ListenerHandlerPorts) {
  const { logger, tracer, metrics } = ports;
  const run = async (_event: unknown, context: Context) => {
    const endsAt = ports.nowMs() + Math.min(context.getRemainingTimeInMillis(), ports.listenMs ?? Number.POSITIVE_INFINITY);
    const reports = await listen(
      {
        ...ports,
        // Unique per invocation, retries included (a retried asynchronous invocation may keep its request id).
        holder: `${context.awsRequestId}/${randomUUID().slice(0, 8)}`,
        logger,
        onStatistics: (pool, statistics) => {
          const metric = metrics.singleMetric();
          metric.addDimension('pool', pool);
          metric.addMetric('ScaleSetAssignedJobs', MetricUnit.Count, statistics.totalAssignedJobs);
        },
      },
      endsAt,
    );
    // Always one metric (an invocation that found every lease held has nothing else to say, and an empty EMF flush warns).
    metrics.addMetric('ScaleSetPoolsListened', MetricUnit.Count, reports.filter((r) => r.outcome !== 'held-by-another').length);
    for (const report of reports) {
      if (report.outcome === 'held-by-another') continue;
      logger.info('listened', { ...report });
      tracer.putAnnotation(`listened-${report.pool}`, report.outcome);
      metrics.addMetric('ScaleSetJobMessages', MetricUnit.Count, report.jobMessages);
      metrics.addMetric('ScaleSetWithdrawals', MetricUnit.Count, report.withdrawn);
      metrics.addMetric('ScaleSetSessionConflicts', MetricUnit.Count, report.sessionConflicts);
      if (report.outcome === 'lease-lost') metrics.addMetric('ListenerLeasesLost', MetricUnit.Count, 1);
    }
    return reports;
  };
  return middy(run)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(captureLambdaHandler(tracer))
    .use(logMetrics(metrics));
}
