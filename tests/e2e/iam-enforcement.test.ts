import { afterEach, describe, expect, it } from '@jest/globals';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Permission } from '@runners/shared/deployment';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { producerContract } from '@runners/producer/contract';
import { startLocalStack, throwawayStack, type LocalStack } from '../../local/stack';
import { getJob } from '../helpers/aws';
import { examplePayload, signature } from '../helpers/webhooks';

/*
 * IAM on the local stack is real, not a pass-through: with one statement removed from the producer's deployment
 * contract, the stacks synthesize a role without it, and the producer's write is refused exactly as DynamoDB refuses
 * it (AccessDeniedException → the producer answers 503, nothing is written). With the statement back, the same
 * webhook is accepted.
 */

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const DEMO_POOL_LABELS = ['self-hosted', 'linux', 'docker'];

async function deliver(local: LocalStack, jobId: number) {
  const body = JSON.stringify(examplePayload('queued', { jobId, labels: DEMO_POOL_LABELS, repo: 'octo-org/app' }));
  return fetch(local.stack.webhookUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-github-event': 'workflow_job',
      'x-github-delivery': `iam-${jobId}`,
      'x-hub-signature-256': signature(local.stack.webhookSecret, body),
    },
    body,
  });
}

describe('IAM enforced on the local stack', () => {
  const permissions = producerContract.permissions;
  let local: LocalStack | undefined;

  afterEach(async () => {
    (producerContract as { permissions: typeof permissions }).permissions = permissions;
    await local?.stop();
    local = undefined;
  });

  it('refuses the producer its write when its contract loses the statement, and allows it once restored', async () => {
    // Prepare: the contract without JobWrites.
    (producerContract as { permissions: typeof permissions }).permissions = (r) => permissions(r).filter((s: Permission) => s.sid !== 'JobWrites');
    local = await startLocalStack({ ...(await throwawayStack(root, 'iam-denied')), logLevel: 'ERROR' });

    // Act
    const refused = await deliver(local, 7001);

    // Assess: 503 (storage failed), the denial names the producer's role and the action, nothing written.
    expect(refused.status).toBe(503);
    expect(local.iam.denials()).toEqual([expect.objectContaining({ principal: 'producer', action: 'dynamodb:UpdateItem', operation: 'dynamodb:UpdateItem' })]);
    expect(local.iam.denials()[0]!.reason).toMatch(/no identity-based policy allows the dynamodb:UpdateItem action/);
    const admin = new DynamoDBClient(local.aws.clientConfig);
    expect(await getJob(admin, local.stack.tables.jobs, 7001)).toBeUndefined();
    await local.stop();

    // Prepare: the contract as shipped.
    (producerContract as { permissions: typeof permissions }).permissions = permissions;
    local = await startLocalStack({ ...(await throwawayStack(root, 'iam-allowed')), logLevel: 'ERROR' });

    // Act
    const accepted = await deliver(local, 7002);

    // Assess
    expect(accepted.status).toBe(202);
    expect(local.iam.denials()).toEqual([]);
    expect(await getJob(new DynamoDBClient(local.aws.clientConfig), local.stack.tables.jobs, 7002)).toMatchObject({ jobId: 7002 });
  }, 120_000);
});
