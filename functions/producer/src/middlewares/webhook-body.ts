import { createError } from '@middy/util';
import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';

/**
 * Turns the API Gateway body into the exact text GitHub signed (decoding base64), and refuses an oversized body
 * before anything parses or hashes it.
 */
export function webhookBody(options: { maxBytes: number }): MiddlewareObj<APIGatewayProxyEventV2> {
  return {
    before: function webhookBodyBefore(request) {
      const { event } = request;
      const raw = event.body ?? '';
      // A base64 body is 4/3 the size of its bytes: reject clearly oversized ones before decoding them.
      if (event.isBase64Encoded && raw.length > Math.ceil((options.maxBytes * 4) / 3) + 4) tooLarge(options.maxBytes);
      const bytes = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
      if (bytes.byteLength > options.maxBytes) tooLarge(options.maxBytes);
      event.body = bytes.toString('utf8');
      event.isBase64Encoded = false;
    },
  };
}

function tooLarge(maxBytes: number): never {
  throw createError(413, `body is larger than ${maxBytes} bytes`);
}
