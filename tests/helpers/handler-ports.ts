import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

/** Powertools utilities for a handler under test: silent logs and metrics, tracing off. */
export function quietPowertools(serviceName: string) {
  return {
    logger: new Logger({ serviceName, logLevel: 'SILENT' }),
    tracer: new Tracer({ serviceName, enabled: false }),
    metrics: new Metrics({ serviceName, namespace: 'Test' }),
  };
}
