import { ObjectSerializer } from '@kubernetes/client-node/dist/gen/models/ObjectSerializer.js';
import { randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { isDeepStrictEqual } from 'node:util';

/*
 * A small Kubernetes API (pods and secrets of core/v1) for the EKS host's tests: no emulator of the API server runs
 * here. Every body is deserialized into the client library's own models (V1Pod, V1Secret) and serialized back; a
 * field the models do not know is rejected (the API server's strict field validation), and so is what the API server
 * validates: names, labels, containers, restart policies, quantities, secret references, owner references, conflicts.
 * Deleting a pod collects the Secrets it owns, as the garbage collector does. The bearer token must be an EKS IAM
 * token (k8s-aws-v1.<presigned STS GetCallerIdentity URL signing x-k8s-aws-id = the cluster name).
 */

type KubeObject = { metadata: { name: string; namespace: string; uid: string; labels?: Record<string, string>; ownerReferences?: { uid: string }[] } } & Record<
  string,
  unknown
>;

export interface FakeKubernetes {
  readonly url: string;
  /** Base64 PEM of the server's self-signed certificate, as DescribeCluster gives the cluster CA. */
  readonly certificateAuthority: string;
  readonly requests: { method: string; path: string }[];
  pods(namespace?: string): KubeObject[];
  secrets(namespace?: string): KubeObject[];
  close(): Promise<void>;
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const QUANTITY = /^[+-]?(\d+(\.\d*)?|\.\d+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei|e[+-]?\d+)?$/;
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

class Invalid extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

function checkLabels(labels: Record<string, string> | undefined, errors: string[]) {
  for (const [key, value] of Object.entries(labels ?? {})) {
    const [prefix, name] = key.includes('/') ? key.split('/', 2) : [undefined, key];
    if (prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix)))
      errors.push(`metadata.labels: Invalid value: "${key}": prefix part must be a DNS subdomain`);
    if (!name || name.length > 63 || !LABEL_NAME.test(name)) errors.push(`metadata.labels: Invalid value: "${key}": name part must be a valid label name`);
    if (value.length > 63 || (value !== '' && !LABEL_NAME.test(value)))
      errors.push(`metadata.labels: Invalid value: "${value}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.'`);
  }
}

function checkMetadata(object: KubeObject, namespace: string, errors: string[]) {
  const { name } = object.metadata ?? {};
  if (!name) errors.push('metadata.name: Required value');
  else if (name.length > 253 || !DNS_SUBDOMAIN.test(name)) errors.push(`metadata.name: Invalid value: "${name}": a lowercase RFC 1123 subdomain`);
  if (object.metadata?.namespace && object.metadata.namespace !== namespace)
    errors.push('metadata.namespace: Invalid value: does not match the namespace of the request');
  checkLabels(object.metadata?.labels, errors);
  for (const [i, ref] of (object.metadata?.ownerReferences ?? []).entries()) {
    const r = ref as Record<string, unknown>;
    for (const field of ['apiVersion', 'kind', 'name', 'uid']) if (!r[field]) errors.push(`metadata.ownerReferences[${i}].${field}: Required value`);
  }
}

type Container = {
  name?: string;
  image?: string;
  restartPolicy?: string;
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name?: string; key?: string } } }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
};

function checkPod(pod: KubeObject, errors: string[]) {
  const spec = pod.spec as { containers?: Container[]; initContainers?: Container[]; restartPolicy?: string; volumes?: { name: string }[] } | undefined;
  if (!spec) return void errors.push('spec: Required value');
  if (!spec.containers?.length) errors.push('spec.containers: Required value');
  if (spec.restartPolicy && !['Always', 'OnFailure', 'Never'].includes(spec.restartPolicy))
    errors.push(`spec.restartPolicy: Unsupported value: "${spec.restartPolicy}"`);
  const names = new Set<string>();
  const all = [...(spec.containers ?? []).map((c) => ['containers', c] as const), ...(spec.initContainers ?? []).map((c) => ['initContainers', c] as const)];
  for (const [i, [kind, container]] of all.entries()) {
    const at = `spec.${kind}[${i}]`;
    if (!container.name || !DNS_LABEL.test(container.name)) errors.push(`${at}.name: Invalid value: "${container.name}"`);
    else if (names.has(container.name)) errors.push(`${at}.name: Duplicate value: "${container.name}"`);
    names.add(container.name ?? '');
    if (!container.image) errors.push(`${at}.image: Required value`);
    if (kind === 'containers' && container.restartPolicy) errors.push(`${at}.restartPolicy: Forbidden: may not be set for non-init containers`);
    if (kind === 'initContainers' && container.restartPolicy && container.restartPolicy !== 'Always')
      errors.push(`${at}.restartPolicy: Unsupported value: "${container.restartPolicy}"`);
    for (const [j, env] of (container.env ?? []).entries()) {
      if (!ENV_NAME.test(env.name)) errors.push(`${at}.env[${j}].name: Invalid value: "${env.name}"`);
      if (env.value !== undefined && env.valueFrom) errors.push(`${at}.env[${j}].valueFrom: Invalid value: may not be specified when value is not empty`);
      const ref = env.valueFrom?.secretKeyRef;
      if (ref && (!ref.name || !ref.key)) errors.push(`${at}.env[${j}].valueFrom.secretKeyRef: name and key are required`);
    }
    for (const [kindOf, quantities] of Object.entries(container.resources ?? {})) {
      for (const [resource, quantity] of Object.entries(quantities ?? {})) {
        if (!QUANTITY.test(String(quantity)))
          errors.push(`${at}.resources.${kindOf}[${resource}]: Invalid value: "${quantity}": quantities must match the regular expression`);
      }
    }
  }
}

export async function startFakeKubernetes(options: { namespaces: string[] }): Promise<FakeKubernetes> {
  const store = { Pod: new Map<string, KubeObject>(), Secret: new Map<string, KubeObject>() };
  const requests: { method: string; path: string }[] = [];
  const key = (namespace: string, name: string) => `${namespace}/${name}`;

  const authorize = (request: IncomingMessage) => {
    const token = /^Bearer k8s-aws-v1\.(.+)$/.exec(request.headers.authorization ?? '')?.[1];
    if (!token) throw new Invalid(401, 'Unauthorized', 'Unauthorized');
    const url = new URL(Buffer.from(token, 'base64url').toString());
    const signed = url.searchParams.get('X-Amz-SignedHeaders')?.split(';') ?? [];
    const valid =
      /^sts\.[a-z0-9-]+\.amazonaws\.com$|^127\.0\.0\.1$|^localhost$/.test(url.hostname) &&
      url.searchParams.get('Action') === 'GetCallerIdentity' &&
      signed.includes('x-k8s-aws-id') &&
      Number(url.searchParams.get('X-Amz-Expires')) <= 60 &&
      !!url.searchParams.get('X-Amz-Signature');
    if (!valid) throw new Invalid(401, 'Unauthorized', 'Unauthorized');
  };

  const readBody = async (request: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    try {
      return JSON.parse(Buffer.concat(chunks).toString() || '{}') as Record<string, unknown>;
    } catch {
      throw new Invalid(400, 'BadRequest', 'the body is not JSON');
    }
  };

  /** Through the client's models and back: what does not survive is a field the API does not have. */
  const decode = (body: Record<string, unknown>, kind: 'Pod' | 'Secret') => {
    if (body.kind && body.kind !== kind) throw new Invalid(400, 'BadRequest', `the kind "${String(body.kind)}" does not match the resource (${kind})`);
    const model = ObjectSerializer.deserialize(body, `V1${kind}`, '');
    const roundTrip = ObjectSerializer.serialize(model, `V1${kind}`, '') as Record<string, unknown>;
    if (!isDeepStrictEqual(JSON.parse(JSON.stringify(roundTrip)), body)) {
      throw new Invalid(400, 'BadRequest', `strict decoding error: the ${kind} has fields that V1${kind} does not know`);
    }
    return roundTrip as KubeObject;
  };

  const handle = async (request: IncomingMessage): Promise<[number, unknown]> => {
    authorize(request);
    const url = new URL(request.url ?? '/', 'http://fake');
    const match = /^\/api\/v1\/namespaces\/([^/]+)\/(pods|secrets)(?:\/([^/]+))?$/.exec(url.pathname);
    if (!match) throw new Invalid(404, 'NotFound', `the server could not find the requested resource (${url.pathname})`);
    const [, namespace = '', resource, name] = match;
    const kind = resource === 'pods' ? 'Pod' : 'Secret';
    const objects = store[kind];
    if (!options.namespaces.includes(namespace)) throw new Invalid(404, 'NotFound', `namespaces "${namespace}" not found`);

    if (request.method === 'POST' && !name) {
      const object = decode(await readBody(request), kind);
      const errors: string[] = [];
      checkMetadata(object, namespace, errors);
      if (kind === 'Pod') checkPod(object, errors);
      if (errors.length > 0) throw new Invalid(422, 'Invalid', `${kind} "${object.metadata?.name}" is invalid: ${errors.join(', ')}`);
      if (objects.has(key(namespace, object.metadata.name))) throw new Invalid(409, 'AlreadyExists', `${resource} "${object.metadata.name}" already exists`);
      const stored = {
        ...object,
        metadata: { ...object.metadata, namespace, uid: randomUUID(), creationTimestamp: new Date().toISOString(), resourceVersion: '1' },
      } as KubeObject;
      if (kind === 'Pod') stored.status = { phase: 'Pending' };
      if (kind === 'Secret' && stored.stringData) {
        // The API server moves stringData into data (base64) and never returns stringData.
        stored.data = Object.fromEntries(Object.entries(stored.stringData as Record<string, string>).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));
        delete stored.stringData;
      }
      objects.set(key(namespace, object.metadata.name), stored);
      return [201, stored];
    }
    if (request.method === 'GET' && !name) {
      const selector = (url.searchParams.get('labelSelector') ?? '')
        .split(',')
        .filter(Boolean)
        .map((term) => term.split('=') as [string, string]);
      const items = [...objects.values()].filter((o) => o.metadata.namespace === namespace && selector.every(([k, v]) => o.metadata.labels?.[k] === v));
      return [200, { apiVersion: 'v1', kind: `${kind}List`, metadata: { resourceVersion: '1' }, items }];
    }
    const found = name ? objects.get(key(namespace, name)) : undefined;
    if (!found) throw new Invalid(404, 'NotFound', `${resource} "${name}" not found`);
    if (request.method === 'GET') return [200, found];
    if (request.method === 'DELETE') {
      objects.delete(key(namespace, name!));
      if (kind === 'Pod') {
        for (const [k, secret] of store.Secret) if (secret.metadata.ownerReferences?.some((ref) => ref.uid === found.metadata.uid)) store.Secret.delete(k);
      }
      return [200, found];
    }
    throw new Invalid(405, 'MethodNotAllowed', `${request.method} is not supported here`);
  };

  const tls = selfSignedCertificate();
  const server = createServer(tls, (request: IncomingMessage, response: ServerResponse) => {
    requests.push({ method: request.method ?? '', path: request.url ?? '' });
    handle(request).then(
      ([status, body]) => response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body)),
      (error: unknown) => {
        const e = error instanceof Invalid ? error : new Invalid(500, 'InternalError', String(error));
        response
          .writeHead(e.code, { 'content-type': 'application/json' })
          .end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message: e.message, reason: e.reason, code: e.code }));
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const list = (map: Map<string, KubeObject>, namespace?: string) => [...map.values()].filter((o) => !namespace || o.metadata.namespace === namespace);
  return {
    url: `https://127.0.0.1:${port}`,
    certificateAuthority: Buffer.from(tls.cert).toString('base64'),
    requests,
    pods: (namespace) => list(store.Pod, namespace),
    secrets: (namespace) => list(store.Secret, namespace),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The API server speaks TLS only (the client refuses plain HTTP): a certificate for 127.0.0.1, made by openssl. */
function selfSignedCertificate(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'fake-kubernetes-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=kubernetes',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
