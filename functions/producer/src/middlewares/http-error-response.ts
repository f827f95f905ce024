import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { MiddlewareObj } from '@middy/core';
import { PayloadError, StorageError } from '@runners/shared';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { WebhookSecretNotConfiguredError } from '../webhook-secret';

export function jsonResponse(statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

interface HttpError extends Error {
  statusCode: number;
  expose?: boolean;
}

const isHttpError = (error: unknown): error is HttpError => error instanceof Error && typeof (error as Partial<HttpError>).statusCode === 'number';

/**
 * Maps every failure to a status GitHub understands: 4xx for what the sender got wrong (GitHub shows it, never
 * retries), 5xx only when our storage failed or the secret is not configured yet (a failed delivery that can be
 * redelivered). The message is ours, never
 * the payload or the secret.
 */
export function httpErrorResponse(logger: Logger, metrics: Metrics): MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2> {
  return {
    onError: function httpErrorResponseOnError(request) {
      const { error } = request;
      if (error instanceof WebhookSecretNotConfiguredError) {
        // Never the value: only what is wrong with it. The alarm on this metric says the deploy is unfinished.
        logger.error('refusing webhooks: the webhook secret is not configured', { problem: error.problem });
        metrics.addMetric('WebhookSecretNotConfigured', MetricUnit.Count, 1);
        request.response = jsonResponse(503, { error: 'webhook secret not configured, redeliver later' });
      } else if (error instanceof PayloadError) {
        logger.warn('rejected webhook: payload does not match the workflow_job schema', { issues: error.issues });
        request.response = jsonResponse(400, { error: 'payload does not match the workflow_job schema', issues: error.issues });
      } else if (isHttpError(error) && error.statusCode < 500) {
        // The JSON parser answers 422 for bad JSON; to GitHub (and to us) it is a malformed request.
        const status = error.statusCode === 422 ? 400 : error.statusCode;
        const message = error.statusCode === 422 ? 'body is not valid JSON' : error.message;
        logger.warn('rejected webhook', { status, reason: message });
        request.response = jsonResponse(status, { error: message });
      } else if (error instanceof StorageError) {
        logger.error('job store failed; GitHub will record a failed delivery', { error });
        request.response = jsonResponse(503, { error: 'storage unavailable, redeliver later' });
      } else {
        logger.error('unexpected failure', { error });
        request.response = jsonResponse(500, { error: 'internal error' });
      }
    },
  };
}
