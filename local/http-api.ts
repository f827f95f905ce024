import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { LocalFunction } from './lambda-runtime';

/*
 * API Gateway HTTP API, as far as the producer can tell: payload format 2.0 events (lowercased headers, repeated
 * headers joined with commas, non-text bodies base64-encoded), the integration's response mapped back to HTTP.
 */

const TEXT_BODY = /^(text\/|application\/(json|.+\+json|javascript|xml|.+\+xml))/i;
/** API Gateway's own payload limit; larger requests never reach the function. */
const API_GATEWAY_MAX_BYTES = 10 * 1024 * 1024;

export interface HttpApi {
  readonly url: string;
  stop(): Promise<void>;
}

export function toHttpApiEvent(request: IncomingMessage, body: Buffer, routeKey: string): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  }
  const url = new URL(request.url ?? '/', 'http://localhost');
  const isBase64Encoded = body.length > 0 && !TEXT_BODY.test(headers['content-type'] ?? '');
  const now = new Date();
  return {
    version: '2.0',
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    queryStringParameters: url.search ? Object.fromEntries(url.searchParams) : undefined,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'local',
      http: {
        method: request.method ?? 'GET',
        path: url.pathname,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    body: body.length === 0 ? undefined : isBase64Encoded ? body.toString('base64') : body.toString('utf8'),
    isBase64Encoded,
  };
}

/** Serves `routes` ("POST /webhook" → function) on 127.0.0.1:port. */
export async function startHttpApi(port: number, routes: Record<string, LocalFunction>): Promise<HttpApi> {
  const server: Server = createServer((request, response) => {
    const routeKey = `${request.method} ${new URL(request.url ?? '/', 'http://localhost').pathname}`;
    const target = routes[routeKey];
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= API_GATEWAY_MAX_BYTES) chunks.push(chunk);
    });
    request.on('end', async () => {
      const reply = (status: number, body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) => {
        response.writeHead(status, headers).end(body);
      };
      if (!target) return reply(404, JSON.stringify({ message: 'Not Found' }));
      if (size > API_GATEWAY_MAX_BYTES) return reply(413, JSON.stringify({ message: 'Request Entity Too Large' }));
      try {
        const result = await target.invoke<APIGatewayProxyStructuredResultV2>(toHttpApiEvent(request, Buffer.concat(chunks), routeKey));
        const headers = Object.fromEntries(Object.entries(result.headers ?? {}).map(([k, v]) => [k, String(v)]));
        const body = result.body ?? '';
        reply(result.statusCode ?? 200, result.isBase64Encoded ? Buffer.from(body, 'base64').toString() : body, headers);
      } catch {
        // What API Gateway answers when the integration fails.
        reply(500, JSON.stringify({ message: 'Internal Server Error' }));
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  return {
    url: `http://127.0.0.1:${actualPort}`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
