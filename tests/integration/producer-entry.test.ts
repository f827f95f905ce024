import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { ConfigError } from '@runners/shared';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { readEnvironment } from '../../functions/producer/src/config';
import { webhookSecretSource } from '../../functions/producer/src/webhook-secret';
import { lambdaContext } from '../../local/lambda-context.mjs';
import { createJobsTable, deleteTable, getJob, motoTarget } from '../helpers/aws';
import { examplePayload, signedDelivery } from '../helpers/webhooks';

/*
 * The Lambda entry as deployed: environment read by the config module, pools from pools.config.ts, the webhook secret
 * from SSM (moto) through Powertools parameters, the Jobs table on moto.
 */

describe('producer Lambda entry (functions/producer/src/index.ts)', () => {
  const target = motoTarget();
  const client = new DynamoDBClient(target.clientConfig);
  const secret = `entry-${randomUUID()}`;
  const parameterName = `/test/${randomUUID()}/webhook-secret`;
  let tableName: string;
  let handler: ((event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>) & { use?: unknown };
  const saved = { ...process.env };

  beforeAll(async () => {
    tableName = await createJobsTable(target);
    await new SSMClient(target.clientConfig).send(new PutParameterCommand({ Name: parameterName, Value: secret, Type: 'SecureString' }));
    Object.assign(process.env, target.environment, {
      JOBS_TABLE_NAME: tableName,
      WEBHOOK_SECRET_PARAMETER: parameterName,
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
    });
    ({ handler } = await import('../../functions/producer/src/index'));
  });
  afterAll(async () => {
    process.env = saved;
    await deleteTable(client, tableName);
  });

  it('exports the middy-wrapped handler, not the bare function', () => {
    expect(typeof handler.use).toBe('function');
  });

  it('verifies with the secret stored in SSM and records the job routed by pools.config.ts', async () => {
    const jobId = 5_000_000_001;
    const event = signedDelivery(secret, examplePayload('queued', { jobId, labels: ['self-hosted', 'linux', 'docker'] }));

    const response = await handler(event, lambdaContext('producer'));

    expect(response.statusCode).toBe(202);
    expect(await getJob(client, tableName, jobId)).toMatchObject({ state: 'queued', job: { pool: 'docker-linux' } });
  });

  it('refuses a delivery signed with another secret', async () => {
    const response = await handler(signedDelivery('another secret', examplePayload('queued', { jobId: 5_000_000_002 })), lambdaContext('producer'));

    expect(response.statusCode).toBe(401);
  });
});

describe('webhook secret sources', () => {
  const target = motoTarget();
  const saved = { ...process.env };
  beforeAll(() => {
    Object.assign(process.env, target.environment);
  });
  afterAll(() => {
    process.env = saved;
  });

  it('reads a Secrets Manager secret when WEBHOOK_SECRET_ARN is set', async () => {
    const name = `test/${randomUUID()}`;
    const created = await new SecretsManagerClient(target.clientConfig).send(new CreateSecretCommand({ Name: name, SecretString: 'from-secrets-manager' }));

    const source = webhookSecretSource(readEnvironment({ JOBS_TABLE_NAME: 't', WEBHOOK_SECRET_ARN: created.ARN }));

    await expect(source()).resolves.toBe('from-secrets-manager');
  });
});

describe('producer environment', () => {
  it('names every missing or bad variable at once', () => {
    let caught: unknown;
    try {
      readEnvironment({ WEBHOOK_MAX_BODY_BYTES: 'lots' });
    } catch (error) {
      caught = error;
    }

    expect(caught).toBeInstanceOf(ConfigError);
    const paths = (caught as ConfigError).issues.map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['JOBS_TABLE_NAME', 'WEBHOOK_MAX_BODY_BYTES']));
  });

  it('wants exactly one secret source', () => {
    expect(() => readEnvironment({ JOBS_TABLE_NAME: 't' })).toThrow(/exactly one of WEBHOOK_SECRET_PARAMETER/);
    expect(() => readEnvironment({ JOBS_TABLE_NAME: 't', WEBHOOK_SECRET_PARAMETER: '/a', WEBHOOK_SECRET_ARN: 'b' })).toThrow(/exactly one/);
  });
});
