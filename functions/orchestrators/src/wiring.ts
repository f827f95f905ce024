import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { cronProblem, parsePoolsConfig, type PoolsConfig, deploymentLabel } from '@runners/shared';
import { countAwsCalls } from '@runners/shared/aws-calls';
import { DynamoDbDispatchStore, DynamoDbLaunchStore } from '@runners/shared/dynamodb';
import { loadGitHubApps, recordGitHubCalls } from '@runners/shared/github';
import poolsConfigFile from '../../../pools.config';
import { readEnvironment, type OrchestratorEnvironment } from './config';
import type { Host } from './hosts/host';
import { DEFAULT_LIMITS } from './orchestrate';
import { DEFAULT_HOST_RULE_LIMITS } from './host-rules';
import { createOrchestratorHandler } from './orchestrator-handler';

/** The Lambda wiring every host kind's entry shares: environment, pools, stores, GitHub client, Powertools. */
export async function orchestratorHandler(kind: Host['kind'], makeHost: (environment: OrchestratorEnvironment, config: PoolsConfig) => Host | Promise<Host>) {
  const environment = readEnvironment();
  const config = parsePoolsConfig(poolsConfigFile, 'pools.config.ts', { cron: cronProblem });
  const serviceName = `orchestrator-${kind}`;
  const tracer = new Tracer({ serviceName });
  const metrics = new Metrics({ serviceName });
  const dynamodb = tracer.captureAWSv3Client(countAwsCalls(new DynamoDBClient({})));
  const baseUrl = environment.GITHUB_API_URL ?? config.github.apiUrl;
  // The App that sends the webhooks, and the others this kind's pools register their runners with.
  const { github, githubApps } = await loadGitHubApps({
    appIdParameter: environment.GITHUB_APP_ID_PARAMETER,
    privateKeyParameter: environment.GITHUB_PRIVATE_KEY_PARAMETER,
    otherApps: environment.GITHUB_APPS,
    baseUrl,
    clientOptions: { onCall: recordGitHubCalls(metrics), writeSpacingMs: environment.GITHUB_WRITE_SPACING_MS },
  });
  return createOrchestratorHandler({
    config,
    host: await makeHost(environment, config),
    github,
    githubApps,
    launches: new DynamoDbLaunchStore(dynamodb, environment.JOBS_TABLE_NAME),
    slots: new DynamoDbDispatchStore(dynamodb, environment.JOBS_TABLE_NAME),
    deploymentLabel: deploymentLabel(environment.DEPLOYMENT_ID),
    now: () => Date.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    hostRuleLimits: DEFAULT_HOST_RULE_LIMITS,
    limits: { ...DEFAULT_LIMITS, hostAttempts: environment.HOST_CREATE_ATTEMPTS, maxLaunchAttempts: environment.MAX_LAUNCH_ATTEMPTS },
    logger: new Logger({ serviceName }),
    tracer,
    metrics,
  });
}
