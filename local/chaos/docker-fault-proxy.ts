import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/*
 * Host creation failures without touching the product: an HTTP proxy in front of the Docker engine's socket that
 * answers a fraction of `POST /containers/create` with a 500, as an engine out of disk or memory does. The chaos
 * scenario points the orchestrator at it (DOCKER_HOST=tcp://…); everything else passes through unchanged.
 * It can also crash the orchestrator at its n-th container creation — after the JIT config was generated, before the
 * host exists — by calling `crash` (which kills the orchestrator's execution environment) and never answering.
 */

export interface DockerFaultProxy {
  readonly dockerHost: string;
  readonly injected: () => number;
  readonly crashes: () => number;
  /** What kills the orchestrator, once the stack it belongs to is running. */
  onCrash(crash: () => Promise<void>): void;
  close(): Promise<void>;
}

export interface DockerFaultOptions {
  readonly createFailureRate: number;
  /** Crash the orchestrator at these container creations (1-based). */
  readonly crashAtCreates?: readonly number[];
  readonly socketPath?: string;
  readonly random?: () => number;
}

export async function startDockerFaultProxy(options: DockerFaultOptions): Promise<DockerFaultProxy> {
  const socketPath = options.socketPath ?? '/var/run/docker.sock';
  const random = options.random ?? Math.random;
  let injected = 0;
  let creates = 0;
  let crashes = 0;
  let crash: (() => Promise<void>) | undefined;
  const server = createServer((incoming: IncomingMessage, outgoing: ServerResponse) => {
    const isCreate = incoming.method === 'POST' && /\/containers\/create(\?|$)/.test(incoming.url ?? '');
    if (isCreate && crash && options.crashAtCreates?.includes(++creates)) {
      crashes++;
      incoming.resume();
      void crash().finally(() => outgoing.destroy());
      return;
    }
    if (isCreate && random() < options.createFailureRate) {
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
    crashes: () => crashes,
    onCrash: (fn) => {
      crash = fn;
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
