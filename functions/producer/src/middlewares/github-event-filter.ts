import type { MiddlewareObj } from '@middy/core';
import { createError } from '@middy/util';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { jsonResponse } from './http-error-response';

/**
 * Answers what is not a `workflow_job` before the body is parsed: `ping` (sent when the hook is created) gets 200,
 * any other event 202 and is ignored, so GitHub records a successful delivery and never retries it.
 */
export function githubEventFilter(): MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2> {
  return {
    before: function githubEventFilterBefore(request) {
      const eventName = request.event.headers['x-github-event'];
      if (!eventName) throw createError(400, 'missing X-GitHub-Event header');
      if (eventName === 'ping') return jsonResponse(200, { event: 'ping', ok: true });
      if (eventName !== 'workflow_job') return jsonResponse(202, { event: eventName, ignored: true });
      if (!request.event.headers['x-github-delivery']) throw createError(400, 'missing X-GitHub-Delivery header');
      return undefined;
    },
  };
}
