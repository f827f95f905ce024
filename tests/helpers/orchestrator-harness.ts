import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { deploymentLabel, parseWorkflowJobEvent, type LaunchMessage, type PoolsConfig } from '@runners/shared';
import { DynamoDbDispatchStore, DynamoDbJobStore, DynamoDbLaunchStore } from '@runners/shared/dynamodb';
import { GitHubClient } from '@runners/shared/github';
import type { SQSEvent } from 'aws-lambda';
import Docker from 'dockerode';
import { randomUUID } from 'node:crypto';
import { DockerHost, dockerEngine, type DockerEngine } from '@runners/orchestrators/hosts';
import type { Host } from '@runners/orchestrators/hosts';
import { DEFAULT_LIMITS, type OrchestratorLimits } from '@runners/orchestrators';
import { createOrchestratorHandler } from '@runners/orchestrators';
import { DEFAULT_HOST_RULE_LIMITS } from '@runners/orchestrators';
import { lambdaContext } from '../../local/lambda-context.mjs';
import { ensureSimRunnerImage } from '../../sim/runner/image';
import { motoTarget } from './aws';
import { enforcedIam } from './iam';
import { quietPowertools } from './handler-ports';
import { ORG, simulatorWithClient } from './simulator';
import { examplePayload } from './webhooks';

/*
 * An orchestrator on real parts: its middy stack, the Jobs table on moto, the real GitHub client against the
 * simulator, containers on the real dockerd. Jobs are put in the state the publisher leaves them in (dispatched, slot
 * held) through the real stores, so the orchestrator sees what it sees in production.
 */

export async function orchestratorHarness(options: {
  config: PoolsConfig;
  /** The host, on the engine client the Docker orchestrator ships with (default: the Docker host). */
  host?: (engine: DockerEngine, managedBy: string) => Host;
  /** Wraps the real GitHub client the handler uses (to hold a call at a chosen point). */
  github?: (client: GitHubClient) => GitHubClient;
  limits?: Partial<OrchestratorLimits>;
  /** Powertools for the handler (default: silent). */
  powertools?: ReturnType<typeof quietPowertools>;
  /** The simulator's options (the App's permissions, GitHub's clocks). */
  sim?: Parameters<typeof simulatorWithClient>[0];
  /** The config's other GitHub Apps (github.apps), given the simulator's extra Apps in order (sim.extraApps ≥ their number). */
  otherApps?: readonly string[];
}) {
  const target = motoTarget();
  const docker = new Docker();
  await ensureSimRunnerImage(docker);
  // The handler acts as the Docker orchestrator's synthesized role (enforced IAM); the test's own set-up and reads
  // (the publisher's part of a launch, the assertions) use the deployer's key.
  const iam = await enforcedIam({ pools: options.config });
  const { tableName } = iam;
  const dynamodb = new DynamoDBClient(target.clientConfig);
  const asOrchestrator = new DynamoDBClient(iam.as('orchestrator-docker').clientConfig);
  const env = await simulatorWithClient(options.sim);
  const managedBy = `test-${randomUUID().slice(0, 8)}`;
  const engine = dockerEngine();
  const host = options.host?.(engine, managedBy) ?? new DockerHost(engine, managedBy);
  const launches = new DynamoDbLaunchStore(dynamodb, tableName);
  const dispatch = new DynamoDbDispatchStore(dynamodb, tableName);
  const githubApps = new Map(
    (options.otherApps ?? []).map((name, i) => {
      const app = env.sim.extraApps[i]!;
      return [
        name,
        new GitHubClient({ appId: app.appId, privateKey: app.privateKeyPem, baseUrl: env.sim.url }, { retryAfterBaseValue: 50, writeSpacingMs: 0 }),
      ] as const;
    }),
  );
  const handler = createOrchestratorHandler({
    config: options.config,
    host,
    github: options.github?.(env.client) ?? env.client,
    githubApps,
    launches: new DynamoDbLaunchStore(asOrchestrator, tableName),
    slots: new DynamoDbDispatchStore(asOrchestrator, tableName),
    now: () => Date.now(),
    sleep: async () => undefined,
    deploymentLabel: DEPLOYMENT_LABEL,
    limits: { ...DEFAULT_LIMITS, ...options.limits },
    hostRuleLimits: DEFAULT_HOST_RULE_LIMITS,
    ...(options.powertools ?? quietPowertools('orchestrator')),
  });
  const invoke = (bodies: unknown[]) => {
    const event: SQSEvent = {
      Records: bodies.map((body) => ({
        messageId: randomUUID(),
        receiptHandle: randomUUID(),
        body: typeof body === 'string' ? body : JSON.stringify(body),
        attributes: {} as never,
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:pool',
        awsRegion: 'us-east-1',
      })),
    };
    return handler(event, lambdaContext('orchestrator'));
  };
  /** Puts job `jobId` where the publisher leaves it: recorded from a `queued` webhook, dispatched, its slot held. */
  const dispatched = async (jobId: number, pool = options.config.pools[0]!.name): Promise<string> => {
    const payload = examplePayload('queued', { jobId, labels: ['docker'], repo: 'octo-org/app' });
    payload.installation = { id: await env.client.installationId(ORG) };
    await new DynamoDbJobStore(dynamodb, tableName).recordWebhook(parseWorkflowJobEvent(payload, `d-${jobId}`), { pool }, new Date());
    const runnerName = `gha-${pool}-${jobId}-1`;
    await dispatch.markDispatched(jobId, { pool, runnerName, attempt: 1, at: new Date() });
    return runnerName;
  };
  /** Removes what the harness left on the engine and stops the simulator and the IAM proxy; the denied calls. */
  const stop = async () => {
    for (const container of await host.list()) await host.delete(container.runnerName);
    await env.sim.stop();
    const denials = iam.proxy.denials();
    await iam.stop();
    return denials;
  };
  /** Any other event (an EventBridge event), as Lambda would deliver it. */
  const invokeEvent = (event: unknown): Promise<unknown> =>
    (handler as unknown as (e: unknown, c: unknown) => Promise<unknown>)(event, lambdaContext('orchestrator'));
  return { ...env, iam, docker, host, tableName, dynamodb, launches, dispatch, invoke, invokeEvent, dispatched, stop, managedBy };
}

/** The deployment label the harness's orchestrator gives its runners. */
export const DEPLOYMENT_LABEL = deploymentLabel('test:123456789012:us-east-1');

/** A launch message for a job the publisher dispatched, as on the pool's queue. */
export function launchMessage(pool: string, jobId: number, overrides: Partial<LaunchMessage> = {}): LaunchMessage {
  return {
    action: 'launch',
    pool,
    host: 'docker',
    os: 'linux',
    runnerName: `gha-${pool}-${jobId}-1`,
    jobId,
    launchAttempt: 1,
    owner: 'octo-org',
    repo: 'app',
    labels: ['self-hosted', 'docker'],
    dispatchedAt: new Date().toISOString(),
    ...overrides,
  };
}
