import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { getParameter } from '@aws-lambda-powertools/parameters/ssm';
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createRouter, DynamoDbJobStore, parsePoolsConfig } from '@runners/shared';
import poolsConfigFile from '../../../pools.config';
import { readEnvironment } from './config';
import { createProducerHandler } from './producer-handler';

/*
 * Lambda entry: wires the real ports once per cold start. Everything here fails fast: a bad environment or pools
 * config stops the cold start with a message naming every bad field.
 */

const environment = readEnvironment();
const config = parsePoolsConfig(poolsConfigFile, 'pools.config.ts');
const tracer = new Tracer({ serviceName: 'producer' });
const logger = new Logger({ serviceName: 'producer' });
const metrics = new Metrics({ serviceName: 'producer', namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'EphemeralRunners' });

const webhookSecret = async (): Promise<string> => {
  const maxAge = environment.WEBHOOK_SECRET_MAX_AGE_SECONDS;
  const secret = environment.WEBHOOK_SECRET_PARAMETER
    ? await getParameter(environment.WEBHOOK_SECRET_PARAMETER, { decrypt: true, maxAge })
    : await getSecret(environment.WEBHOOK_SECRET_ARN!, { maxAge });
  if (typeof secret !== 'string' || secret === '') throw new Error('webhook secret is empty or not a string');
  return secret;
};

export const handler = createProducerHandler({
  config,
  router: createRouter(config.pools),
  store: new DynamoDbJobStore(tracer.captureAWSv3Client(new DynamoDBClient({})), environment.JOBS_TABLE_NAME),
  now: () => new Date(),
  webhookSecret,
  maxBodyBytes: environment.WEBHOOK_MAX_BODY_BYTES,
  logger,
  tracer,
  metrics,
});
