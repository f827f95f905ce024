import type Docker from 'dockerode';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { containerOutput, DEBIAN_BASE_IMAGE, demultiplexed, ensureImage } from '../images/images';
import { SIM_RUNNER_LAYOUT } from '../runner/image';

/*
 * A Lambda execution environment for a container-image function, on Docker, kept as strict as Lambda's where the
 * runner Lambda depends on it (Lambda developer guide: "Lambda execution environment", "Container images",
 * "Using the Lambda runtime API"): the function runs as a user that is not root (Lambda's sbx_user1051, uid 993), the
 * file system is read-only except /tmp, the function's credentials and the Runtime API's address are in its
 * environment, each invocation comes through the Runtime API (this file answers it on 127.0.0.1), and the environment
 * — process, /tmp, anything left running — is reused for the next invocation. The image is built like
 * functions/runner-lambda/Dockerfile: the runner in /opt/actions-runner (the simulated one), the shipped bundle
 * (dist/runner-lambda/index.mjs) in /var/task, CMD index.handler; node is this machine's (the Lambda runtime's major).
 */

export const SIM_RUNNER_LAMBDA_IMAGE = 'ephemeral-runners/sim-runner-lambda:latest';
const here = import.meta.dirname;
/** Lambda's function user (uid/gid as seen in Lambda: sbx_user1051). */
export const LAMBDA_USER = { uid: 993, gid: 990 };

const dockerfile = `FROM ${DEBIAN_BASE_IMAGE}
COPY node /var/lang/bin/node
COPY bootstrap.mjs /var/runtime/bootstrap.mjs
COPY layout/ /opt/actions-runner/
COPY bundle/index.mjs /var/task/index.mjs
ENV PATH=/var/lang/bin:/usr/local/bin:/usr/bin:/bin LAMBDA_TASK_ROOT=/var/task LAMBDA_RUNTIME_DIR=/var/runtime RUNNER_DIR=/opt/actions-runner
WORKDIR /var/task
ENTRYPOINT ["/var/lang/bin/node", "/var/runtime/bootstrap.mjs"]
CMD ["index.handler"]
`;

export async function ensureSimRunnerLambdaImage(docker: Docker, bundleDir = resolve(here, '..', '..', 'dist', 'runner-lambda')): Promise<void> {
  await ensureImage(docker, {
    image: SIM_RUNNER_LAMBDA_IMAGE,
    dockerfile,
    context: { node: process.execPath, 'bootstrap.mjs': join(here, 'bootstrap.mjs'), layout: SIM_RUNNER_LAYOUT, bundle: bundleDir },
  });
}

export interface Invocation {
  readonly requestId: string;
  /** The handler's result, or the error it threw (errorType, errorMessage). */
  readonly result: Promise<{ ok: true; payload: unknown } | { ok: false; error: { errorType: string; errorMessage: string } }>;
}

export interface ExecutionEnvironment {
  invoke(event: unknown, options?: { timeoutMs?: number; traceId?: string }): Invocation;
  /** Runs a command in the environment (as its user), for assertions on what a job left. */
  exec(command: string[]): Promise<string>;
  output(): Promise<string>;
  stop(): Promise<void>;
}

export async function startExecutionEnvironment(
  docker: Docker,
  options: { functionName: string; environment?: Record<string, string>; memoryMb?: number; image?: string },
): Promise<ExecutionEnvironment> {
  const queue: { id: string; event: unknown; deadline: number; traceId?: string; settle: (r: Awaited<Invocation['result']>) => void }[] = [];
  const waiting: ServerResponse[] = [];
  const open = new Map<string, (typeof queue)[number]>();
  const deliver = () => {
    while (queue.length > 0 && waiting.length > 0) {
      const invocation = queue.shift()!;
      open.set(invocation.id, invocation);
      waiting
        .shift()!
        .writeHead(200, {
          'content-type': 'application/json',
          'lambda-runtime-aws-request-id': invocation.id,
          'lambda-runtime-deadline-ms': String(invocation.deadline),
          'lambda-runtime-invoked-function-arn': `arn:aws:lambda:eu-west-1:123456789012:function:${options.functionName}`,
          ...(invocation.traceId ? { 'lambda-runtime-trace-id': invocation.traceId } : {}),
        })
        .end(JSON.stringify(invocation.event));
    }
  };
  const body = (req: IncomingMessage) =>
    new Promise<string>((done) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c.toString()));
      req.on('end', () => done(text));
    });
  const server = createServer(async (req, res) => {
    const path = req.url ?? '';
    if (req.method === 'GET' && path === '/2018-06-01/runtime/invocation/next') {
      waiting.push(res);
      return deliver();
    }
    const match = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(path);
    const invocation = match ? open.get(match[1]!) : undefined;
    if (req.method === 'POST' && invocation) {
      const text = await body(req);
      open.delete(invocation.id);
      invocation.settle(match![2] === 'response' ? { ok: true, payload: JSON.parse(text || 'null') } : { ok: false, error: JSON.parse(text) });
      return res.writeHead(202).end('{"status":"OK"}');
    }
    if (req.method === 'POST' && path === '/2018-06-01/runtime/init/error') {
      const error = JSON.parse(await body(req));
      for (const pending of [...queue.splice(0), ...open.values()]) pending.settle({ ok: false, error });
      return res.writeHead(202).end('{"status":"OK"}');
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const api = `127.0.0.1:${(server.address() as AddressInfo).port}`;

  const container = await docker.createContainer({
    Image: options.image ?? SIM_RUNNER_LAMBDA_IMAGE,
    User: `${LAMBDA_USER.uid}:${LAMBDA_USER.gid}`,
    Env: [
      `AWS_LAMBDA_RUNTIME_API=${api}`,
      `AWS_LAMBDA_FUNCTION_NAME=${options.functionName}`,
      `AWS_LAMBDA_FUNCTION_MEMORY_SIZE=${options.memoryMb ?? 2048}`,
      'AWS_REGION=eu-west-1',
      '_HANDLER=index.handler',
      ...Object.entries(options.environment ?? {}).map(([k, v]) => `${k}=${v}`),
    ],
    Labels: { 'ephemeral-runners.sim-lambda': options.functionName },
    HostConfig: { NetworkMode: 'host', ReadonlyRootfs: true, Tmpfs: { '/tmp': `rw,exec,size=512m,uid=${LAMBDA_USER.uid},gid=${LAMBDA_USER.gid}` } },
  });
  await container.start();

  return {
    invoke(event, invokeOptions = {}) {
      const id = randomUUID();
      const result = new Promise<Awaited<Invocation['result']>>((settle) => {
        queue.push({
          id,
          event,
          deadline: Date.now() + (invokeOptions.timeoutMs ?? 900_000),
          ...(invokeOptions.traceId ? { traceId: invokeOptions.traceId } : {}),
          settle,
        });
      });
      deliver();
      return { requestId: id, result };
    },
    async exec(command) {
      const run = await container.exec({ Cmd: command, AttachStdout: true, AttachStderr: true, User: `${LAMBDA_USER.uid}:${LAMBDA_USER.gid}` });
      const stream = await run.start({});
      const chunks: Buffer[] = [];
      await new Promise<void>((done) => {
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => done());
      });
      return demultiplexed(Buffer.concat(chunks));
    },
    output: () => containerOutput(container),
    async stop() {
      await container.remove({ force: true }).catch(() => undefined);
      for (const res of waiting.splice(0)) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
