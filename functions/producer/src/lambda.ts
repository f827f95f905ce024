import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createRouter, currentTraceHeader, parsePoolsConfig } from '@runners/shared';
import { countAwsCalls } from '@runners/shared/aws-calls';
import { DynamoDbJobStore } from '@runners/shared/dynamodb';
import poolsConfigFile from '../../../pools.config';
import { readEnvironment } from './config';
import { createProducerHandler } from './producer-handler';
import { webhookSecretSource } from './webhook-secret';

/*
 * Lambda entry: wires the real ports once per cold start. Everything here fails fast: a bad environment or pools
 * config stops the cold start with a message naming every bad field.
 */

const environment = readEnvironment();
const config = parsePoolsConfig(poolsConfigFile, 'pools.config.ts');
const tracer = new Tracer({ serviceName: 'producer' });
const logger = new Logger({ serviceName: 'producer' });
// Namespace from POWERTOOLS_METRICS_NAMESPACE, set by the stacks.
const metrics = new Metrics({ serviceName: 'producer' });

export const handler = createProducerHandler({
  config,
  router: createRouter(config.pools),
  store: new DynamoDbJobStore(tracer.captureAWSv3Client(countAwsCalls(new DynamoDBClient({}))), environment.JOBS_TABLE_NAME),
  now: () => new Date(),
  // The webhook that first records a job starts the job's trace.
  traceHeader: currentTraceHeader,
  webhookSecret: webhookSecretSource(environment),
  maxBodyBytes: environment.WEBHOOK_MAX_BODY_BYTES,
  logger,
  tracer,
  metrics,
});
