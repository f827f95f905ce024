import { request, type IncomingMessage } from 'node:http';

/*
 * The five calls the Docker host makes to the engine (Docker Engine API: containers create, start, inspect, remove,
 * list; images inspect), over its Unix socket or DOCKER_HOST's tcp://. Written here rather than through dockerode,
 * which carries SSH (ssh2), gRPC and protobuf for BuildKit sessions and tar streams: 0.8 MB of the orchestrator's
 * bundle for these requests. The tests run the Docker host on this client against a real dockerd.
 */

/** The engine refused (its HTTP status, as dockerode reports it: `statusCode`). */
export class DockerEngineError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(`Docker engine ${statusCode}: ${message}`);
    this.name = 'DockerEngineError';
  }
}

export interface ContainerSpec {
  readonly name: string;
  readonly Image: string;
  readonly Entrypoint?: readonly string[];
  readonly Env?: readonly string[];
  readonly Labels?: Readonly<Record<string, string>>;
  readonly HostConfig?: Readonly<Record<string, unknown>>;
}

export interface ContainerSummary {
  readonly Id: string;
  readonly Labels: Readonly<Record<string, string>>;
}

/** What the Docker host asks of an engine. */
export interface DockerEngine {
  /** Creates and starts a container; its id. */
  run(spec: ContainerSpec): Promise<string>;
  inspectContainer(name: string): Promise<{ readonly Id: string; readonly State: { readonly Running: boolean; readonly Status: string } }>;
  startContainer(id: string): Promise<void>;
  removeContainer(name: string): Promise<void>;
  listContainers(label: string): Promise<ContainerSummary[]>;
  /** The image's architecture (amd64, arm64), or undefined when the engine does not have it. */
  imageArchitecture(image: string): Promise<string | undefined>;
}

/** An engine's API answers within this long: a launch must not hang on a stuck socket. */
const REQUEST_TIMEOUT_MS = 30_000;

/** The engine at DOCKER_HOST (`unix:///path` or `tcp://host:port`), by default the local socket. */
export function dockerEngine(dockerHost = process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock'): DockerEngine {
  const target = dockerHost.startsWith('unix://')
    ? { socketPath: dockerHost.slice('unix://'.length) }
    : { host: new URL(dockerHost.replace(/^tcp:/, 'http:')).hostname, port: Number(new URL(dockerHost.replace(/^tcp:/, 'http:')).port) };
  const send = <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise<T>((resolve, reject) => {
      const req = request(
        {
          ...target,
          method,
          path,
          timeout: REQUEST_TIMEOUT_MS,
          headers: payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {},
        },
        (res: IncomingMessage) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const status = res.statusCode ?? 0;
            // 304: the container was started already (start is idempotent here).
            if ((status >= 200 && status < 300) || status === 304) return resolve((text ? JSON.parse(text) : undefined) as T);
            let message = text;
            try {
              message = (JSON.parse(text) as { message?: string }).message ?? text;
            } catch {
              // not JSON: the text is the message
            }
            reject(new DockerEngineError(status, message.trim()));
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`Docker engine ${method} ${path}: no answer in ${REQUEST_TIMEOUT_MS} ms`)));
      req.on('error', reject);
      req.end(payload);
    });
  };
  const id = (value: string) => encodeURIComponent(value);
  return {
    async run({ name, ...spec }) {
      const created = await send<{ Id: string }>('POST', `/containers/create?name=${id(name)}`, spec);
      await send('POST', `/containers/${created.Id}/start`);
      return created.Id;
    },
    inspectContainer: (name) => send('GET', `/containers/${id(name)}/json`),
    startContainer: async (container) => void (await send('POST', `/containers/${id(container)}/start`)),
    removeContainer: async (name) => void (await send('DELETE', `/containers/${id(name)}?force=true`)),
    listContainers: (label) => send('GET', `/containers/json?all=true&filters=${id(JSON.stringify({ label: [label] }))}`),
    async imageArchitecture(image) {
      try {
        // An image name keeps its slashes and tag in the path (the engine routes /images/{name:.*}/json).
        return (await send<{ Architecture?: string }>('GET', `/images/${encodeURI(image)}/json`)).Architecture;
      } catch (error) {
        if (error instanceof DockerEngineError && error.statusCode === 404) return undefined;
        throw error;
      }
    },
  };
}
