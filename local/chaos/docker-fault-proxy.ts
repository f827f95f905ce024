import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/*
 * Host creation failures without touching the product: an HTTP proxy in front of the Docker engine's socket that
 * answers a fraction of `POST /containers/create` with a 500, as an engine out of disk or memory does. The chaos
 * scenario points the orchestrator at it (DOCKER_HOST=tcp://…); everything else passes through unchanged.
 */

export interface DockerFaultProxy {
  readonly dockerHost: string;
  readonly injected: () => number;
  close(): Promise<void>;
}

export async function startDockerFaultProxy(options: { createFailureRate: number; socketPath?: string; random?: () => number }): Promise<DockerFaultProxy> {
  const socketPath = options.socketPath ?? '/var/run/docker.sock';
  const random = options.random ?? Math.random;
  let injected = 0;
  const server = createServer((incoming: IncomingMessage, outgoing: ServerResponse) => {
    if (incoming.method === 'POST' && /\/containers\/create(\?|$)/.test(incoming.url ?? '') && random() < options.createFailureRate) {
      injected++;
      incoming.resume();
      outgoing.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ message: 'injected fault: no space left on device' }));
      return;
    }
    const upstream = request({ socketPath, method: incoming.method, path: incoming.url, headers: incoming.headers }, (response) => {
      outgoing.writeHead(response.statusCode ?? 502, response.headers);
      response.pipe(outgoing);
    });
    upstream.on('error', (error) => outgoing.writeHead(502).end(String(error)));
    incoming.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    dockerHost: `tcp://127.0.0.1:${port}`,
    injected: () => injected,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
