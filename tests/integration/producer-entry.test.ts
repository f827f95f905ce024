import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { ConfigError } from '@runners/shared';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { readEnvironment } from '@runners/producer';
import { WEBHOOK_SECRET_PLACEHOLDERS, webhookSecretSource } from '@runners/producer';
import { lambdaContext } from '../../local/lambda-context.mjs';
import { createJobsTable, deleteTable, getJob, motoTarget } from '../helpers/aws';
import { examplePayload, signedDelivery } from '../helpers/webhooks';

/*
 * The Lambda entry as deployed: environment read by the config module, pools from pools.config.ts, the webhook secret
 * from SSM (moto) through Powertools parameters, the Jobs table on moto.
 */

describe('producer Lambda entry (functions/producer/src/lambda.ts)', () => {
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
    ({ handler } = await import('../../functions/producer/src/lambda'));
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

/*
 * Until the deploy has written the real webhook secret, nothing is verified: a missing parameter or the placeholder
 * this repository once published gets 503 (GitHub records a failed delivery, redelivered later), the log line says
 * what is wrong and never the value; once the real secret is written, the same producer accepts — no restart, even
 * though the secret is otherwise cached for minutes.
 */
describe('producer before its webhook secret is set', () => {
  const target = motoTarget();
  const ssm = new SSMClient(target.clientConfig);
  const saved = { ...process.env };
  const parameterName = `/test/${randomUUID()}/webhook-secret`;
  let tableName: string;
  let handler: (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;
  const logged: string[] = [];

  beforeAll(async () => {
    tableName = await createJobsTable(target);
    Object.assign(process.env, target.environment, {
      JOBS_TABLE_NAME: tableName,
      WEBHOOK_SECRET_PARAMETER: parameterName,
      POWERTOOLS_METRICS_DISABLED: 'true',
    });
    const { createProducerHandler } = await import('@runners/producer');
    const { Logger } = await import('@aws-lambda-powertools/logger');
    const { Metrics } = await import('@aws-lambda-powertools/metrics');
    const { Tracer } = await import('@aws-lambda-powertools/tracer');
    const { createRouter } = await import('@runners/shared');
    const { DynamoDbJobStore } = await import('@runners/shared/dynamodb');
    const { testPoolsConfig } = await import('../helpers/pools');
    const config = testPoolsConfig();
    const logger = new Logger({ serviceName: 'producer', logLevel: 'ERROR' });
    // What the function prints (Powertools writes JSON lines, errors to stderr), kept to check that no secret reaches the log.
    for (const stream of [process.stdout, process.stderr])
      jest.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => (logged.push(String(chunk)), true));
    handler = createProducerHandler({
      config,
      router: createRouter(config.pools),
      store: new DynamoDbJobStore(new DynamoDBClient(target.clientConfig), tableName),
      now: () => new Date(),
      webhookSecret: webhookSecretSource(readEnvironment()),
      maxBodyBytes: 1024 * 1024,
      logger,
      tracer: new Tracer({ enabled: false }),
      metrics: new Metrics({ serviceName: 'producer' }),
    });
  });
  afterAll(() => {
    jest.restoreAllMocks();
    process.env = saved;
  });

  const deliver = (secret: string, jobId: number) =>
    handler(signedDelivery(secret, examplePayload('queued', { jobId, labels: ['self-hosted', 'docker'] })), lambdaContext('producer'));

  it('answers 503 while the parameter is missing, and while it holds the placeholder; 202 once the real one is set', async () => {
    expect((await deliver('anything', 5_100_000_001)).statusCode).toBe(503);

    await ssm.send(new PutParameterCommand({ Name: parameterName, Value: WEBHOOK_SECRET_PLACEHOLDERS.values().next().value!, Type: 'SecureString' }));
    const placeholder = await deliver(WEBHOOK_SECRET_PLACEHOLDERS.values().next().value!, 5_100_000_002);
    expect(placeholder.statusCode).toBe(503);
    expect(JSON.parse(placeholder.body!)).toEqual({ error: 'webhook secret not configured, redeliver later' });
    expect(await getJob(new DynamoDBClient(target.clientConfig), tableName, 5_100_000_002)).toBeUndefined();

    await ssm.send(new PutParameterCommand({ Name: parameterName, Value: 'the-real-secret-0123456789', Type: 'SecureString', Overwrite: true }));
    const accepted = await deliver('the-real-secret-0123456789', 5_100_000_003);

    expect(accepted.statusCode).toBe(202);
    expect(logged.some((line) => line.includes('"problem":"missing"'))).toBe(true);
    expect(logged.some((line) => line.includes('"problem":"placeholder"'))).toBe(true);
    expect(logged.join('\n')).not.toContain(WEBHOOK_SECRET_PLACEHOLDERS.values().next().value!);
    expect(logged.join('\n')).not.toContain('the-real-secret');
  });
});
