import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/*
 * One instance's metadata service, as strict as EC2's with the launch template's `HttpTokens: required` (IMDSv2 only;
 * EC2 user guide, "Use the Instance Metadata Service to access instance metadata"): a session token from
 * `PUT /latest/api/token` with `X-aws-ec2-metadata-token-ttl-seconds` (1–21600) first; every other request carries it
 * in `X-aws-ec2-metadata-token` or gets 401; a PUT that carries `X-Forwarded-For` is refused (EC2 refuses tokens
 * through a proxy). It serves what the bootstrap and the SDKs read: the user data, the instance id, the region, the
 * instance profile's credentials (the JSON document of "Retrieve security credentials from instance metadata") and the
 * identity document.
 */

export interface InstanceMetadata {
  readonly instanceId: string;
  readonly region: string;
  readonly imageId: string;
  readonly instanceType: string;
  readonly userData: string;
  readonly role: { readonly name: string; readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken?: string };
}

export interface MetadataService {
  /** For AWS_EC2_METADATA_SERVICE_ENDPOINT. */
  readonly url: string;
  readonly requests: { method: string; path: string; status: number }[];
  close(): Promise<void>;
}

export async function startMetadataService(metadata: InstanceMetadata): Promise<MetadataService> {
  const tokens = new Map<string, number>();
  const requests: MetadataService['requests'] = [];
  const identity = {
    instanceId: metadata.instanceId,
    region: metadata.region,
    imageId: metadata.imageId,
    instanceType: metadata.instanceType,
    accountId: '123456789012',
    architecture: 'x86_64',
  };
  const paths: Record<string, () => string> = {
    '/latest/user-data': () => metadata.userData,
    '/latest/meta-data/instance-id': () => metadata.instanceId,
    '/latest/meta-data/ami-id': () => metadata.imageId,
    '/latest/meta-data/instance-type': () => metadata.instanceType,
    '/latest/meta-data/placement/region': () => metadata.region,
    '/latest/meta-data/iam/security-credentials/': () => metadata.role.name,
    [`/latest/meta-data/iam/security-credentials/${metadata.role.name}`]: () =>
      JSON.stringify({
        Code: 'Success',
        LastUpdated: new Date().toISOString(),
        Type: 'AWS-HMAC',
        AccessKeyId: metadata.role.accessKeyId,
        SecretAccessKey: metadata.role.secretAccessKey,
        Token: metadata.role.sessionToken ?? 'local-session-token',
        Expiration: new Date(Date.now() + 6 * 3600_000).toISOString(),
      }),
    '/latest/dynamic/instance-identity/document': () => JSON.stringify(identity),
  };
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const answer = (status: number, body = '') => {
      requests.push({ method: req.method ?? '', path, status });
      res.writeHead(status, { 'content-type': 'text/plain' }).end(body);
    };
    if (req.method === 'PUT' && path === '/latest/api/token') {
      const ttl = Number(req.headers['x-aws-ec2-metadata-token-ttl-seconds']);
      if (req.headers['x-forwarded-for']) return answer(403);
      if (!Number.isInteger(ttl) || ttl < 1 || ttl > 21_600) return answer(400);
      const token = randomBytes(24).toString('base64url');
      tokens.set(token, Date.now() + ttl * 1000);
      return answer(200, token);
    }
    if (req.method !== 'GET') return answer(405);
    const token = String(req.headers['x-aws-ec2-metadata-token'] ?? '');
    if (!((tokens.get(token) ?? 0) > Date.now())) return answer(401);
    const found = paths[path];
    return found ? answer(200, found()) : answer(404);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
