import { createError } from '@middy/util';
import type { MiddlewareObj } from '@middy/core';
import { verify } from '@octokit/webhooks-methods';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';

/**
 * Verifies `X-Hub-Signature-256` (HMAC-SHA256 of the raw body) before the body is parsed. The legacy SHA-1
 * `X-Hub-Signature` is not accepted: a request signed only with it is unauthenticated.
 */
export function githubSignature(options: { secret: () => Promise<string> }): MiddlewareObj<APIGatewayProxyEventV2> {
  return {
    before: async function githubSignatureBefore(request) {
      const signature = request.event.headers['x-hub-signature-256'];
      if (!signature) throw createError(401, 'missing X-Hub-Signature-256 header');
      if (!/^sha256=[0-9a-f]{64}$/i.test(signature)) throw createError(401, 'malformed X-Hub-Signature-256 header');
      const valid = await verify(await options.secret(), request.event.body ?? '', signature);
      if (!valid) throw createError(401, 'X-Hub-Signature-256 does not match the body');
    },
  };
}
