import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createRouter, currentTraceHeader, deploymentLabel, parsePoolsConfig } from '@runners/shared';
import { countAwsCalls } from '@runners/shared/aws-calls';
import { DynamoDbJobStore, DynamoDbListenerLease } from '@runners/shared/dynamodb';
import { loadGitHubApps, recordGitHubCalls } from '@runners/shared/github';
import { setTimeout as sleep } from 'node:timers/promises';
import poolsConfigFile from '../../../pools.config';
import { readEnvironment } from './config';
import { DEFAULT_LISTENER_LIMITS } from './listen';
import { createListenerHandler } from './listener-handler';
import { scaleSetApps } from './scale-set-apps';

/* Lambda entry: real ports, wired once per cold start. */

const environment = readEnvironment();
const config = parsePoolsConfig(poolsConfigFile, 'pools.config.ts');
const tracer = new Tracer({ serviceName: 'listener' });
const metrics = new Metrics({ serviceName: 'listener' });
const dynamodb = tracer.captureAWSv3Client(countAwsCalls(new DynamoDBClient({})));
const onCall = recordGitHubCalls(metrics);
const { github, githubApps } = await loadGitHubApps({
  appIdParameter: environment.GITHUB_APP_ID_PARAMETER,
  privateKeyParameter: environment.GITHUB_PRIVATE_KEY_PARAMETER,
  otherApps: environment.GITHUB_APPS,
  baseUrl: environment.GITHUB_API_URL ?? config.github.apiUrl,
  clientOptions: { onCall },
});

export const handler = createListenerHandler({
  config,
  lease: new DynamoDbListenerLease(dynamodb, environment.JOBS_TABLE_NAME),
  intake: {
    config,
    router: createRouter(config.pools),
    store: new DynamoDbJobStore(dynamodb, environment.JOBS_TABLE_NAME),
    now: () => new Date(),
    traceHeader: currentTraceHeader,
  },
  appOf: scaleSetApps(config, github, githubApps, {
    onCall: (operation, status) => onCall(`scale set: ${operation}`, status),
    retryBaseMs: environment.SCALE_SET_RETRY_BASE_MS,
  }),
  deploymentLabel: deploymentLabel(environment.DEPLOYMENT_ID),
  limits: {
    ...DEFAULT_LISTENER_LIMITS,
    leaseMs: environment.LEASE_SECONDS * 1_000,
    renewEveryMs: Math.max(1_000, Math.floor((environment.LEASE_SECONDS * 1_000) / 3)),
    withdrawnGraceMs: environment.WITHDRAWN_GRACE_SECONDS * 1_000,
  },
  ...(environment.LISTEN_SECONDS ? { listenMs: environment.LISTEN_SECONDS * 1_000 } : {}),
  nowMs: () => Date.now(),
  sleep: (ms, signal) => sleep(ms, undefined, signal ? { signal } : {}),
  logger: new Logger({ serviceName: 'listener' }),
  tracer,
  metrics,
});
