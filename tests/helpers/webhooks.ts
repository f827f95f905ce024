import { createHmac, randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';

/*
 * Real `workflow_job` payloads from @octokit/webhooks-examples, signed as GitHub signs them, wrapped as API Gateway
 * HTTP API (payload 2.0) events.
 */

const require = createRequire(import.meta.url);

export type WorkflowJobPayload = {
  action: string;
  workflow_job: { id: number; labels: string[]; runner_name: string | null; conclusion: string | null; [key: string]: unknown };
  repository: { full_name: string; name: string; owner: { login: string } };
  installation?: { id: number };
  [key: string]: unknown;
};

export interface WorkflowJobExample {
  /** e.g. `api.github.com #6 queued` */
  readonly title: string;
  readonly payload: WorkflowJobPayload;
}

const SOURCES = ['api.github.com', 'ghes-31', 'ghes-32', 'ghes-33', 'ghes-34', 'ghes-35'] as const;

export function workflowJobExamples(): WorkflowJobExample[] {
  return SOURCES.flatMap((source) => {
    const index = require(`@octokit/webhooks-examples/${source}/index.json`) as { name: string; examples: WorkflowJobPayload[] }[];
    const examples = index.find((entry) => entry.name === 'workflow_job')?.examples ?? [];
    return examples.map((payload, i) => ({ title: `${source} #${i} ${payload.action}`, payload }));
  });
}

/** A deep copy of the first example with this action (and, optionally, labels), with fields overridden. */
export function examplePayload(
  action: string,
  overrides: { jobId?: number; labels?: string[]; runnerName?: string | null; conclusion?: string | null; repo?: string; createdAt?: string } = {},
): WorkflowJobPayload {
  const examples = workflowJobExamples().filter((e) => e.payload.action === action);
  const source = examples.find((e) => e.payload.installation) ?? examples[0];
  if (!source) throw new Error(`no workflow_job example with action ${action}`);
  const payload = structuredClone(source.payload);
  if (overrides.jobId !== undefined) payload.workflow_job.id = overrides.jobId;
  if (overrides.labels) payload.workflow_job.labels = overrides.labels;
  if (overrides.runnerName !== undefined) payload.workflow_job.runner_name = overrides.runnerName;
  if (overrides.conclusion !== undefined) payload.workflow_job.conclusion = overrides.conclusion;
  if (overrides.createdAt !== undefined) payload.workflow_job.created_at = overrides.createdAt;
  if (overrides.repo) {
    const [owner, name] = overrides.repo.split('/') as [string, string];
    payload.repository = { ...payload.repository, full_name: overrides.repo, name, owner: { ...payload.repository.owner, login: owner } };
  }
  return payload;
}

/** `sha256=<hex>` as GitHub computes it, with node:crypto (independent of the library the producer verifies with). */
export function signature(secret: string, body: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export interface HttpApiEventOptions {
  readonly body?: string;
  readonly headers?: Record<string, string | undefined>;
  readonly isBase64Encoded?: boolean;
}

/** An API Gateway HTTP API payload 2.0 event for `POST /webhook`. Header names lowercased, as API Gateway sends them. */
export function httpApiEvent(options: HttpApiEventOptions): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(options.headers ?? {})) if (value !== undefined) headers[name.toLowerCase()] = value;
  const now = new Date();
  return {
    version: '2.0',
    routeKey: 'POST /webhook',
    rawPath: '/webhook',
    rawQueryString: '',
    headers,
    requestContext: {
      accountId: '000000000000',
      apiId: 'test',
      domainName: 'test.execute-api.us-east-1.amazonaws.com',
      domainPrefix: 'test',
      http: { method: 'POST', path: '/webhook', protocol: 'HTTP/1.1', sourceIp: '140.82.115.1', userAgent: 'GitHub-Hookshot/test' },
      requestId: randomUUID(),
      routeKey: 'POST /webhook',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    body: options.body,
    isBase64Encoded: options.isBase64Encoded ?? false,
  };
}

/** A webhook delivery as GitHub sends it: JSON body, signed, with event and delivery headers. */
export function signedDelivery(
  secret: string,
  payload: unknown,
  options: { event?: string; deliveryId?: string; headers?: Record<string, string | undefined> } = {},
): APIGatewayProxyEventV2 {
  const body = JSON.stringify(payload);
  return httpApiEvent({
    body,
    headers: {
      'content-type': 'application/json',
      'user-agent': 'GitHub-Hookshot/test',
      'x-github-event': options.event ?? 'workflow_job',
      'x-github-delivery': options.deliveryId ?? randomUUID(),
      'x-hub-signature-256': signature(secret, body),
      ...options.headers,
    },
  });
}
