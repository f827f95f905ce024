import { type Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { type Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy, { type MiddlewareObj } from '@middy/core';
import httpJsonBodyParser from '@middy/http-json-body-parser';
import { acceptJobEvent, parseWorkflowJobEvent, UNROUTABLE, type IntakePorts } from '@runners/shared';
import { recordJobStage } from '@runners/shared/tracing';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { formPayload } from './middlewares/form-payload';
import { githubEventFilter } from './middlewares/github-event-filter';
import { githubSignature } from './middlewares/github-signature';
import { httpErrorResponse, jsonResponse } from './middlewares/http-error-response';
import { webhookBody } from './middlewares/webhook-body';

export interface ProducerPorts extends IntakePorts {
  readonly webhookSecret: () => Promise<string>;
  readonly maxBodyBytes: number;
  readonly logger: Logger;
  readonly tracer: Tracer;
  readonly metrics: Metrics;
}

type ParsedEvent = Omit<APIGatewayProxyEventV2, 'body'> & { body: unknown };

/**
 * The producer: API Gateway HTTP API (payload 2.0) → Jobs table. Middlewares run in this order: size cap (413),
 * signature on the raw body (401), event filter (ping 200, others 202), form unwrapping, JSON parsing (415/400);
 * the handler validates the schema (400) and records the job (202, or 503 when storage fails).
 */
export function createProducerHandler(ports: ProducerPorts) {
  const { logger, tracer, metrics } = ports;

  /** Every delivery counts, accepted or not, so the flush is never empty and the rate of deliveries is visible. */
  const countDelivery: MiddlewareObj = {
    before: function countDeliveryBefore() {
      metrics.addMetric('WebhookDeliveries', MetricUnit.Count, 1);
    },
  };

  const recordWorkflowJob = async (event: ParsedEvent): Promise<APIGatewayProxyStructuredResultV2> => {
    const deliveryId = event.headers['x-github-delivery'] ?? '';
    logger.appendKeys({ deliveryId });
    const jobEvent = parseWorkflowJobEvent(event.body, deliveryId);
    logger.appendKeys({ jobId: jobEvent.jobId });
    logger.setCorrelationId(String(jobEvent.jobId));
    tracer.putAnnotation('jobId', String(jobEvent.jobId));

    const startedMs = Date.now();
    const result = await acceptJobEvent(jobEvent, ports);
    if (result.outcome === 'ignored') {
      logger.info('job ignored', { reason: result.reason });
      metrics.addMetric('JobsIgnored', MetricUnit.Count, 1);
      return jsonResponse(202, { jobId: result.jobId, ignored: true, reason: result.reason });
    }

    tracer.putAnnotation('pool', result.pool);
    // This webhook as a stage of the job's trace (the first one started it), with GitHub's own times of the job.
    recordJobStage(
      tracer,
      `webhook:${jobEvent.action}`,
      { jobId: jobEvent.jobId, pool: result.pool, runnerName: jobEvent.runnerName, traceHeader: result.traceHeader },
      startedMs,
      {
        github: { createdAt: jobEvent.createdAt, startedAt: jobEvent.startedAt, completedAt: jobEvent.completedAt, deliveryId },
      },
    );
    logger.info('job webhook recorded', {
      action: jobEvent.action,
      repository: `${jobEvent.owner}/${jobEvent.repo}`,
      pool: result.pool,
      state: result.state,
      changed: result.outcome === 'recorded',
    });
    if (result.outcome === 'recorded') countTransition(metrics, result.pool, jobEvent.action, result.forGitHubHosted === true, result.notAllowed === true);
    if (result.outcome === 'recorded') timeToRunner(metrics, result.pool, jobEvent);
    return jsonResponse(202, { jobId: result.jobId, pool: result.pool, state: result.state, changed: result.outcome === 'recorded' });
  };

  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(captureLambdaHandler(tracer, { captureResponse: false }))
    .use(logMetrics(metrics))
    .use(countDelivery)
    .use(httpErrorResponse(logger, metrics))
    .use(webhookBody({ maxBytes: ports.maxBodyBytes }))
    .use(githubSignature({ secret: ports.webhookSecret }))
    .use(githubEventFilter())
    .use(formPayload())
    .use(httpJsonBodyParser())
    .handler((event) => recordWorkflowJob(event as ParsedEvent));
}

/**
 * Queued → a runner took the job, per pool, from GitHub's own timestamps (`created_at`, `started_at` of the
 * `in_progress` webhook): what a pool's users wait, whatever the reason. Alarmed on at p95 (stacks/observability.ts).
 */
function timeToRunner(metrics: Metrics, pool: string, event: ReturnType<typeof parseWorkflowJobEvent>): void {
  if (event.action !== 'in_progress' || pool === UNROUTABLE || !event.createdAt || !event.startedAt) return;
  const seconds = (Date.parse(event.startedAt) - Date.parse(event.createdAt)) / 1000;
  if (!(seconds >= 0)) return;
  const perPool = metrics.singleMetric();
  perPool.addDimension('pool', pool);
  perPool.addMetric('TimeToRunner', MetricUnit.Seconds, seconds);
}

/** Counted once per job, on the `queued` that recorded it. */
function countTransition(metrics: Metrics, pool: string, action: string, forGitHubHosted: boolean, notAllowed: boolean): void {
  if (action !== 'queued') return;
  if (pool === UNROUTABLE) {
    // The alarm watches UnroutableJobs: a self-hosted job no pool can run. GitHub-hosted jobs and jobs of repositories
    // outside the allowlist (told so by a check run) are only counted.
    metrics.addMetric(forGitHubHosted ? 'GitHubHostedJobs' : notAllowed ? 'JobsNotAllowed' : 'UnroutableJobs', MetricUnit.Count, 1);
    return;
  }
  // Its own dimension set (pool), flushed apart from the invocation's other metrics.
  const perPool = metrics.singleMetric();
  perPool.addDimension('pool', pool);
  perPool.addMetric('JobsQueued', MetricUnit.Count, 1);
}
