import type { MiddlewareObj } from '@middy/core';
import { createError } from '@middy/util';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';

const FORM = /^application\/x-www-form-urlencoded\s*(;|$)/i;

/**
 * GitHub can deliver a webhook as `application/x-www-form-urlencoded` with the JSON in a `payload` field. Unwrap it
 * so that the JSON body parser after this serves both content types. Runs after signature verification, which covers
 * the form-encoded body as sent.
 */
export function formPayload(): MiddlewareObj<APIGatewayProxyEventV2> {
  return {
    before: function formPayloadBefore(request) {
      const { event } = request;
      if (!FORM.test(event.headers['content-type'] ?? '')) return;
      const payload = new URLSearchParams(event.body ?? '').get('payload');
      if (payload === null) throw createError(400, 'form body has no "payload" field');
      event.body = payload;
      event.headers['content-type'] = 'application/json';
    },
  };
}
