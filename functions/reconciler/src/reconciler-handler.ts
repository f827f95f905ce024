import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import { redeliverLost, type RedeliverPorts, type RedeliverReport } from './redeliver';

export interface ReconcilerHandlerPorts extends RedeliverPorts {
  readonly logger: Logger;
  readonly tracer: Tracer;
  readonly metrics: Metrics;
}

/** The reconciler: every scheduled tick, one redelivery pass. */
export function createReconcilerHandler(ports: ReconcilerHandlerPorts) {
  const { logger, tracer, metrics } = ports;
  const pass = async (): Promise<RedeliverReport> => {
    const report = await redeliverLost(ports);
    logger.info('redelivery pass', { ...report });
    metrics.addMetric('DeliveriesLost', MetricUnit.Count, report.lost);
    metrics.addMetric('DeliveriesRedelivered', MetricUnit.Count, report.redelivered);
    tracer.putAnnotation('redelivered', report.redelivered);
    return report;
  };
  return middy(pass).use(injectLambdaContext(logger, { resetKeys: true })).use(captureLambdaHandler(tracer)).use(logMetrics(metrics));
}
