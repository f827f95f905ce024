import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createRouter, parsePoolsConfig } from '@runners/shared';
import { countAwsCalls } from '@runners/shared/aws-calls';
import { DynamoDbNoticeStore } from '@runners/shared/dynamodb';
import { GitHubClient, loadGitHubAppCredentials, recordGitHubCalls } from '@runners/shared/github';
import poolsConfigFile from '../../../pools.config';
import { readEnvironment } from './config';
import { createNotifierHandler } from './notifier-handler';

/* Lambda entry: real ports, wired once per cold start. */

const environment = readEnvironment();
const config = parsePoolsConfig(poolsConfigFile, 'pools.config.ts');
const tracer = new Tracer({ serviceName: 'notifier' });
const metrics = new Metrics({ serviceName: 'notifier' });
const credentials = await loadGitHubAppCredentials({
  appIdParameter: environment.GITHUB_APP_ID_PARAMETER,
  privateKeyParameter: environment.GITHUB_PRIVATE_KEY_PARAMETER,
  baseUrl: environment.GITHUB_API_URL ?? config.github.apiUrl,
});
const notices = new DynamoDbNoticeStore(tracer.captureAWSv3Client(countAwsCalls(new DynamoDBClient({}))), environment.JOBS_TABLE_NAME);

export const handler = createNotifierHandler({
  config,
  router: createRouter(config.pools),
  notices,
  waiting: notices,
  maxWaitingPerPool: environment.MAX_WAITING_NOTICES_PER_POOL,
  github: new GitHubClient(credentials, { onCall: recordGitHubCalls(metrics) }),
  now: () => new Date(),
  logger: new Logger({ serviceName: 'notifier' }),
  tracer,
  metrics,
});
