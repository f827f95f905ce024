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

/** A logger that keeps what it would print (after Powertools' own formatting of errors and their causes). */
export class CapturingLogger extends Logger {
  lines: Record<string, unknown>[] = [];
  /** A child logger (one per batch record) keeps its lines in its parent's list. */
  protected override createLogger(options?: ConstructorParameters<typeof Logger>[0]): Logger {
    const child = new CapturingLogger(options);
    child.lines = this.lines;
    return child;
  }
  protected override printLog(_logLevel: number, log: Parameters<Logger['printLog']>[1]): void {
    this.lines.push(JSON.parse(JSON.stringify(log.getAttributes(), this.getJsonReplacer())) as Record<string, unknown>);
  }
}

/** As quietPowertools, with the logs kept for the test to read. */
export function capturingPowertools(serviceName: string) {
  return { ...quietPowertools(serviceName), logger: new CapturingLogger({ serviceName, logLevel: 'INFO' }) };
}
