import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';

/*
 * The bearer token EKS accepts for an IAM principal (what `aws eks get-token` prints): "k8s-aws-v1." + the base64url
 * of a presigned STS GetCallerIdentity URL that signs the header x-k8s-aws-id = cluster name. EKS calls the URL to
 * learn who we are; the access entry of the orchestrator's role maps that to Kubernetes permissions. No library of
 * the AWS SDK builds it, so it is written here (40 lines, on the SDK's own signer).
 */

export const EKS_TOKEN_PREFIX = 'k8s-aws-v1.';
/** EKS rejects URLs presigned for longer than this; tokens are reused for a little less. */
const PRESIGN_SECONDS = 60;
const REUSE_MS = 50_000;

export interface EksTokenOptions {
  readonly clusterName: string;
  readonly region: string;
  readonly credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** STS endpoint; the regional one by default. */
  readonly stsEndpoint?: string;
  readonly now?: () => Date;
}

export async function eksToken(options: EksTokenOptions): Promise<string> {
  const endpoint = new URL(options.stsEndpoint ?? `https://sts.${options.region}.amazonaws.com/`);
  const signer = new SignatureV4({ service: 'sts', region: options.region, credentials: options.credentials, sha256: Sha256 });
  const request = new HttpRequest({
    method: 'GET',
    protocol: endpoint.protocol,
    hostname: endpoint.hostname,
    ...(endpoint.port ? { port: Number(endpoint.port) } : {}),
    path: endpoint.pathname,
    query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
    headers: { host: endpoint.host, 'x-k8s-aws-id': options.clusterName },
  });
  const signed = await signer.presign(request, { expiresIn: PRESIGN_SECONDS, signingDate: options.now?.() ?? new Date() });
  const query = new URLSearchParams(signed.query as Record<string, string>).toString();
  const url = `${endpoint.protocol}//${endpoint.host}${signed.path}?${query}`;
  return EKS_TOKEN_PREFIX + Buffer.from(url).toString('base64url');
}

/** One token at a time, minted again shortly before EKS would refuse it. */
export function cachedEksToken(options: EksTokenOptions): () => Promise<string> {
  let cached: { token: string; at: number } | undefined;
  const clock = () => (options.now?.() ?? new Date()).getTime();
  return async () => {
    if (!cached || clock() - cached.at > REUSE_MS) cached = { token: await eksToken(options), at: clock() };
    return cached.token;
  };
}
