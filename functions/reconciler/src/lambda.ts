import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { deploymentLabel, createRouter, parsePoolsConfig } from '@runners/shared';
import { countAwsCalls } from '@runners/shared/aws-calls';
import { DynamoDbDeliveryLog, DynamoDbDispatchStore, DynamoDbJobStore, DynamoDbLaunchStore } from '@runners/shared/dynamodb';
import { GitHubClient, loadGitHubAppCredentials, recordGitHubCalls } from '@runners/shared/github';
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

const dynamodb = tracer.captureAWSv3Client(countAwsCalls(new DynamoDBClient({})));

export const handler = createReconcilerHandler({
  github: new GitHubClient(credentials, { onCall: recordGitHubCalls(metrics) }),
  log: new DynamoDbDeliveryLog(dynamodb, environment.JOBS_TABLE_NAME),
  config,
  router: createRouter(config.pools),
  store: new DynamoDbJobStore(dynamodb, environment.JOBS_TABLE_NAME),
  lostJobSettleMs: environment.LOST_JOB_SETTLE_SECONDS * 1_000,
  maxRepositories: environment.MAX_REPOSITORIES_PER_PASS,
  maxRunsPerRepository: environment.MAX_RUNS_PER_REPOSITORY,
  // Kept while the execution environment lives: the next pass goes on where this one stopped.
  cursor: { next: 0 },
  // Listed at most every 10 minutes: new installations and repositories are rare.
  repositoriesCache: {},
  launches: new DynamoDbLaunchStore(dynamodb, environment.JOBS_TABLE_NAME),
  registrationGraceMs: environment.REGISTRATION_GRACE_SECONDS * 1_000,
  registrationCursor: { next: 0 },
  deploymentLabel: deploymentLabel(environment.DEPLOYMENT_ID),
  maxJobChecks: environment.MAX_JOB_CHECKS_PER_PASS,
  syncCursor: { next: 0 },
  slots: new DynamoDbDispatchStore(dynamodb, environment.JOBS_TABLE_NAME),
  now: () => new Date(),
  lookbackMs: environment.REDELIVERY_LOOKBACK_MINUTES * 60_000,
  // Kept while the execution environment lives: the next pass reads only what is new.
  seen: new Map(),
  settleMs: environment.REDELIVERY_SETTLE_SECONDS * 1_000,
  maxRedeliveries: environment.MAX_REDELIVERIES_PER_PASS,
  logger: new Logger({ serviceName: 'reconciler' }),
  tracer,
  metrics,
});
