import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { createJobsTable, deleteTable, motoTarget, scanTable } from '../helpers/aws';
import { testPoolsConfig } from '../helpers/pools';
import { producerHarness, TEST_SECRET } from '../helpers/producer-harness';
import { examplePayload, httpApiEvent, signature } from '../helpers/webhooks';
import { createHmac } from 'node:crypto';

const MAX_BODY = 64 * 1024;
const payload = examplePayload('queued', { jobId: 7_000_000_001, labels: ['docker'] });
const body = JSON.stringify(payload);

/** A request as GitHub would send it, with the given parts replaced (undefined removes a header). */
function request(parts: { body?: string; headers?: Record<string, string | undefined>; isBase64Encoded?: boolean } = {}): APIGatewayProxyEventV2 {
  const sent = parts.body ?? body;
  return httpApiEvent({
    body: sent,
    isBase64Encoded: parts.isBase64Encoded,
    headers: {
      'content-type': 'application/json',
      'x-github-event': 'workflow_job',
      'x-github-delivery': 'bad-input',
      'x-hub-signature-256': signature(TEST_SECRET, sent),
      ...parts.headers,
    },
  });
}

const withJob = (patch: Record<string, unknown>) => JSON.stringify({ ...payload, workflow_job: { ...payload.workflow_job, ...patch } });
const formBody = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const oversized = JSON.stringify({ ...payload, padding: 'x'.repeat(MAX_BODY) });

const cases: [string, APIGatewayProxyEventV2, number, RegExp][] = [
  ['no signature', request({ headers: { 'x-hub-signature-256': undefined } }), 401, /missing X-Hub-Signature-256/],
  ['wrong signature', request({ headers: { 'x-hub-signature-256': signature('not the secret', body) } }), 401, /does not match/],
  [
    'a sha1= signature only',
    request({ headers: { 'x-hub-signature-256': undefined, 'x-hub-signature': `sha1=${createHmac('sha1', TEST_SECRET).update(body).digest('hex')}` } }),
    401,
    /missing X-Hub-Signature-256/,
  ],
  [
    'a sha1= value in the sha256 header',
    request({ headers: { 'x-hub-signature-256': `sha1=${createHmac('sha1', TEST_SECRET).update(body).digest('hex')}` } }),
    401,
    /malformed/,
  ],
  ['the signature of a different body', request({ headers: { 'x-hub-signature-256': signature(TEST_SECRET, withJob({ id: 1 })) } }), 401, /does not match/],
  ['truncated JSON', request({ body: body.slice(0, body.length / 2) }), 400, /not valid JSON/],
  ['JSON that is not an object', request({ body: '["queued"]' }), 400, /schema/],
  ['JSON null', request({ body: 'null' }), 400, /schema/],
  ['no workflow_job', request({ body: JSON.stringify({ ...payload, workflow_job: undefined }) }), 400, /schema/],
  ['wrong types (job id as a string)', request({ body: withJob({ id: String(payload.workflow_job.id) }) }), 400, /schema/],
  ['wrong types (labels as a string)', request({ body: withJob({ labels: 'self-hosted' }) }), 400, /schema/],
  ['an unknown action', request({ body: JSON.stringify({ ...payload, action: 'requested' }) }), 400, /schema/],
  [
    'a form body without payload',
    request({ body: formBody({ other: body }), headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
    400,
    /no "payload" field/,
  ],
  [
    'a form body whose payload is not JSON',
    request({ body: formBody({ payload: '{oops' }), headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
    400,
    /not valid JSON/,
  ],
  ['an oversized body', request({ body: oversized }), 413, /larger than 65536 bytes/],
  ['an oversized base64 body', request({ body: Buffer.from(oversized).toString('base64'), isBase64Encoded: true }), 413, /larger than/],
  ['a wrong content type', request({ headers: { 'content-type': 'text/plain' } }), 415, /Unsupported Media Type/],
  ['no content type', request({ headers: { 'content-type': undefined } }), 415, /Unsupported Media Type/],
  ['no X-GitHub-Event', request({ headers: { 'x-github-event': undefined } }), 400, /X-GitHub-Event/],
  ['no X-GitHub-Delivery', request({ headers: { 'x-github-delivery': undefined } }), 400, /X-GitHub-Delivery/],
  ['a __proto__ key', request({ body: body.replace('{', '{"__proto__":{"polluted":true},') }), 400, /./],
];

describe('producer: bad input gets its status and leaves the table unchanged', () => {
  const target = motoTarget();
  const client = new DynamoDBClient(target.clientConfig);
  let tableName: string;
  let harness: ReturnType<typeof producerHarness>;
  let before: Record<string, unknown>[];

  beforeAll(async () => {
    // Prepare: a table with one recorded job, to see that nothing touches it
    tableName = await createJobsTable(target);
    harness = producerHarness({ target, tableName, config: testPoolsConfig(), maxBodyBytes: MAX_BODY });
    const seeded = await harness.invoke(request({ body: JSON.stringify(examplePayload('queued', { jobId: 7_000_000_000, labels: ['docker'] })) }));
    expect(seeded.statusCode).toBe(202);
    before = await scanTable(client, tableName);
  });
  afterAll(async () => {
    await deleteTable(client, tableName);
  });

  it.each(cases)('%s → %i', async (_title, event, status, message) => {
    // Act
    const response = await harness.invoke(event);

    // Assess
    expect(response.statusCode).toBe(status);
    expect(String(harness.body(response).error)).toMatch(message);
    expect(await scanTable(client, tableName)).toEqual(before);
  });

  it('names the bad fields of a schema violation in the response', async () => {
    const response = await harness.invoke(request({ body: withJob({ id: 'x', labels: 3 }) }));

    const issues = harness.body(response).issues as { path: string }[];
    expect(issues.map((i) => i.path)).toEqual(expect.arrayContaining(['workflow_job.id', 'workflow_job.labels']));
  });
});
