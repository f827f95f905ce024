import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { countAwsCalls, DynamoDbDeliveryLog, GitHubClient, loadGitHubAppCredentials, parsePoolsConfig, recordGitHubCalls } from '@runners/shared';
import poolsConfigFile from '../../../pools.config';
import { readEnvironment } from './config';
import { createReconcilerHandler } from './reconciler-handler';

/* Lambda entry: real ports, wired once per cold start. */

const environment = readEnvironment();
const config = parsePoolsConfig(poolsConfigFile, 'pools.config.ts');
const tracer = new Tracer({ serviceName: 'reconciler' });
const metrics = new Metrics({ serviceName: 'reconciler' });
const credentials = await loadGitHubAppCredentials({
  appIdParameter: environment.GITHUB_APP_ID_PARAMETER,
  privateKeyParameter: environment.GITHUB_PRIVATE_KEY_PARAMETER,
  baseUrl: environment.GITHUB_API_URL ?? config.github.apiUrl,
});

export const handler = createReconcilerHandler({
  github: new GitHubClient(credentials, { onCall: recordGitHubCalls(metrics) }),
  log: new DynamoDbDeliveryLog(tracer.captureAWSv3Client(countAwsCalls(new DynamoDBClient({}))), environment.JOBS_TABLE_NAME),
  now: () => new Date(),
  lookbackMs: environment.REDELIVERY_LOOKBACK_MINUTES * 60_000,
  settleMs: environment.REDELIVERY_SETTLE_SECONDS * 1_000,
  maxRedeliveries: environment.MAX_REDELIVERIES_PER_PASS,
  logger: new Logger({ serviceName: 'reconciler' }),
  tracer,
  metrics,
});
