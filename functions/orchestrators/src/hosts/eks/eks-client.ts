import type { V1Pod, V1PodList, V1Secret } from '@kubernetes/client-node';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

/*
 * The six calls the EKS host makes to a cluster's API server (core/v1 pods and secrets), over HTTPS with the cluster's
 * CA and a fresh IAM token each time. Written here rather than through @kubernetes/client-node, whose client carries
 * every API group, its serializer and its transports: 1.2 MB of the orchestrator's bundle for these six requests. The
 * types are still the library's (type imports only, nothing bundled), and the tests' API server checks every body
 * against the library's own models (tests/helpers/fake-kubernetes.ts).
 */

export interface EksCluster {
  readonly name: string;
  /** The API server URL (DescribeCluster's endpoint). */
  readonly endpoint: string;
  /** Base64 PEM of the cluster CA (DescribeCluster's certificateAuthority.data); absent for a plain-HTTP test API. */
  readonly certificateAuthority?: string;
}

/** The API server refused (its HTTP status and Status reason): 404 NotFound and 409 AlreadyExists are the host's to handle. */
export class KubernetesError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
  ) {
    super(`Kubernetes API ${code} ${reason}: ${message}`);
    this.name = 'KubernetesError';
  }
}

/** What the EKS host asks of the cluster (the names and arguments of @kubernetes/client-node's CoreV1Api). */
export interface PodsApi {
  createNamespacedPod(args: { namespace: string; body: V1Pod }): Promise<V1Pod>;
  readNamespacedPod(args: { namespace: string; name: string }): Promise<V1Pod>;
  createNamespacedSecret(args: { namespace: string; body: V1Secret }): Promise<V1Secret>;
  deleteNamespacedPod(args: { namespace: string; name: string; propagationPolicy?: 'Background' | 'Foreground' | 'Orphan' }): Promise<void>;
  deleteNamespacedSecret(args: { namespace: string; name: string }): Promise<void>;
  listNamespacedPod(args: { namespace: string; labelSelector?: string; limit?: number; _continue?: string }): Promise<V1PodList>;
}

/** An API server request answered within this long, or failed (a Lambda must not hang on a stuck connection). */
const REQUEST_TIMEOUT_MS = 15_000;

export function kubernetesApi(cluster: EksCluster, token: () => Promise<string>): () => Promise<PodsApi> {
  const ca = cluster.certificateAuthority ? Buffer.from(cluster.certificateAuthority, 'base64').toString('utf8') : undefined;
  const send = async <T>(method: string, path: string, query: Record<string, string | number | undefined> = {}, body?: unknown): Promise<T> => {
    const url = new URL(path, cluster.endpoint);
    for (const [key, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(key, String(value));
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers = {
      authorization: `Bearer ${await token()}`,
      accept: 'application/json',
      ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}),
    };
    const response = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const options = { method, headers, timeout: REQUEST_TIMEOUT_MS, ...(ca ? { ca } : {}) };
      const onResponse = (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      };
      const req = url.protocol === 'https:' ? httpsRequest(url, options, onResponse) : httpRequest(url, options, onResponse);
      req.on('timeout', () => req.destroy(new Error(`Kubernetes API ${method} ${url.pathname}: no answer in ${REQUEST_TIMEOUT_MS} ms`)));
      req.on('error', reject);
      req.end(payload);
    });
    if (response.status >= 200 && response.status < 300) return (response.text ? JSON.parse(response.text) : undefined) as T;
    let status: { reason?: string; message?: string } = {};
    try {
      status = JSON.parse(response.text) as typeof status;
    } catch {
      // not a Status object: the body is the message
    }
    throw new KubernetesError(response.status, status.reason ?? 'Unknown', status.message ?? response.text.slice(0, 500));
  };
  const namespaced = (namespace: string, kind: 'pods' | 'secrets', name?: string) =>
    `/api/v1/namespaces/${encodeURIComponent(namespace)}/${kind}${name ? `/${encodeURIComponent(name)}` : ''}`;
  const api: PodsApi = {
    createNamespacedPod: ({ namespace, body }) => send('POST', namespaced(namespace, 'pods'), {}, body),
    readNamespacedPod: ({ namespace, name }) => send('GET', namespaced(namespace, 'pods', name)),
    createNamespacedSecret: ({ namespace, body }) => send('POST', namespaced(namespace, 'secrets'), {}, body),
    deleteNamespacedPod: async ({ namespace, name, propagationPolicy }) =>
      void (await send('DELETE', namespaced(namespace, 'pods', name), { propagationPolicy })),
    deleteNamespacedSecret: async ({ namespace, name }) => void (await send('DELETE', namespaced(namespace, 'secrets', name))),
    listNamespacedPod: ({ namespace, labelSelector, limit, _continue }) =>
      send('GET', namespaced(namespace, 'pods'), { labelSelector, limit, continue: _continue }),
  };
  return async () => api;
}
