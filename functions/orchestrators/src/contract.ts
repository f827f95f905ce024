import {
  defineContract,
  githubAppPermissions,
  jsonRecord,
  otherGitHubAppsEnvironment,
  otherGitHubAppsPermissions,
  otherGitHubAppsVariable,
  type ExtraGitHubApp,
  HOST_RULES_EVERY_MINUTES,
  tableAndIndexes,
  type DeploymentContract,
  type GitHubAppResources,
  type Permission,
  type QueueResource,
  type TableResource,
} from '@runners/shared/deployment';
import type { HostKind } from '@runners/shared';
import * as z from 'zod';
import { ec2HostEnvironment, ec2HostPermissions, type Ec2HostResources } from './hosts/ec2/contract';
import { eksHostEnvironment, eksHostPermissions, type EksHostResources } from './hosts/eks/contract';
import { lambdaHostEnvironment, lambdaHostPermissions, type LambdaHostResources } from './hosts/lambda-contract';
import { INTERRUPTION_DETAIL_TYPES } from './interruption-events';

export type { ExtraGitHubApp };

/** The orchestrators' deployment contracts: one per host kind, a common part plus what its host module adds. */

/**
 * A launch is a handful of calls (claim, JIT config, host, two records) and a batch of ten runs them concurrently: a
 * minute is ample. The pool queues' visibility timeout is six times this (AWS: "at least six times the timeout that you
 * configure on your function", Lambda with Amazon SQS), and a launch claim older than this plus a margin belongs to an
 * attempt Lambda has stopped: only then may another attempt take it over (and delete its registration).
 */
export const ORCHESTRATOR_TIMEOUT_SECONDS = 60;
export const STALE_CLAIM_MS = (ORCHESTRATOR_TIMEOUT_SECONDS + 30) * 1000;

export interface OrchestratorResources {
  readonly prefix: string;
  /** `<prefix>:<account>:<region>`: whose runners are this deployment's (see deploymentLabel). */
  readonly deploymentId: string;
  readonly region: string;
  readonly jobsTable: TableResource;
  readonly githubApp: GitHubAppResources;
  /** The other GitHub Apps this kind's pools register their runners with (pools.githubApp), by name. */
  readonly githubApps?: readonly ExtraGitHubApp[];
  /** The queues of this kind's pools. */
  readonly poolQueues: readonly QueueResource[];
}

const environment = z.object({
  JOBS_TABLE_NAME: z.string().min(1),
  GITHUB_APP_ID_PARAMETER: z.string().startsWith('/'),
  GITHUB_PRIVATE_KEY_PARAMETER: z.string().startsWith('/'),
  /** The other Apps of this kind's pools: name → its id and key parameters (JSON). */
  GITHUB_APPS: otherGitHubAppsVariable,
  /** Overrides the pools config's github.apiUrl (the local stack points it at the simulator). */
  GITHUB_API_URL: z.url().optional(),
  /** GitHub asks for a second between writes; the simulator needs none. */
  GITHUB_WRITE_SPACING_MS: z.coerce.number().int().min(0).max(10_000).default(1_000),
  HOST_CREATE_ATTEMPTS: z.coerce.number().int().min(1).max(10).default(3),
  MAX_LAUNCH_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(5),
  /** Tells this installation's hosts from another's (Docker labels, EC2 tags). */
  /** Which deployment this is (prefix, account, region): its runners carry its label (deploymentLabel). */
  DEPLOYMENT_ID: z.string().min(1),
  STACK_PREFIX: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$/, 'expected lowercase letters, digits and "-" (it is a Kubernetes label value and part of resource names)')
    .default('ephemeral-runners'),
  AWS_REGION: z.string().min(1).default('us-east-1'),
  /** EKS orchestrator: the cluster its pods run on (endpoint and CA come from DescribeCluster). */
  EKS_CLUSTER_NAME: z
    .string()
    .regex(/^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/)
    .optional(),
  /** EC2 orchestrator: each pool's launch template and subnets, from the stacks (JSON). */
  EC2_POOL_TEMPLATES: jsonRecord(z.object({ launchTemplateId: z.string().startsWith('lt-'), subnetIds: z.array(z.string().startsWith('subnet-')) })),
  /** Lambda orchestrator: each pool's runner function, from the stacks (JSON). */
  RUNNER_FUNCTIONS: jsonRecord(z.string().regex(/^[A-Za-z0-9_:-]{1,140}$/)),
});

export type OrchestratorEnvironment = z.output<typeof environment>;

const common = {
  environment,
  environmentFor: (r: OrchestratorResources) => ({
    JOBS_TABLE_NAME: r.jobsTable.name,
    GITHUB_APP_ID_PARAMETER: r.githubApp.appId.name,
    GITHUB_PRIVATE_KEY_PARAMETER: r.githubApp.privateKey.name,
    ...otherGitHubAppsEnvironment(r.githubApps),
    STACK_PREFIX: r.prefix,
    DEPLOYMENT_ID: r.deploymentId,
  }),
  permissions: (r: OrchestratorResources): Permission[] => [
    {
      sid: 'Launches',
      actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:UpdateItem', 'dynamodb:Query'],
      resources: tableAndIndexes(r.jobsTable),
      why: 'claim, then registration and host of each launch (two conditional writes); slots; the host rules read the records in batches',
    },
    ...githubAppPermissions(r.githubApp, r.region),
    ...otherGitHubAppsPermissions(r.githubApps, 'this kind’s pools register their runners with'),
    {
      sid: 'PoolQueues',
      actions: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueAttributes'],
      resources: r.poolQueues.map((q) => q.arn),
      why: 'the event source mapping polls the pools’ queues with the function role',
    },
  ],
  timeoutSeconds: ORCHESTRATOR_TIMEOUT_SECONDS,
  eventSources: [
    { kind: 'sqs-queue', queues: 'poolQueues', batchSize: 10, maximumBatchingWindowSeconds: 1 },
    {
      kind: 'schedule',
      name: 'host-rules',
      everyMinutes: HOST_RULES_EVERY_MINUTES,
      description: 'the host rules: leaked hosts, launches that never produced a runner, idle warm surplus',
    },
  ],
} as const;

/** EC2's warnings that an instance will be reclaimed (see interruptions.ts): for the host kinds whose hosts get them. */
const interruptions = {
  kind: 'event-pattern',
  name: 'interruptions',
  source: 'aws.ec2',
  detailTypes: INTERRUPTION_DETAIL_TYPES,
  description: 'spot interruption warnings and rebalance recommendations for the runner instances',
} as const;

function orchestratorContract<HostResources>(
  kind: HostKind,
  host: { environment: (r: HostResources) => Record<string, string>; permissions: (r: HostResources) => Permission[]; interruptions?: boolean },
): DeploymentContract<OrchestratorResources & HostResources, typeof environment> {
  return defineContract({
    function: `orchestrator-${kind}`,
    description: `launches and tears down ${kind} runners`,
    environment: common.environment,
    environmentFor: (r: OrchestratorResources & HostResources) => ({ ...common.environmentFor(r), ...host.environment(r) }),
    permissions: (r: OrchestratorResources & HostResources) => [...common.permissions(r), ...host.permissions(r)],
    eventSources: host.interruptions ? [...common.eventSources, interruptions] : common.eventSources,
    timeoutSeconds: common.timeoutSeconds,
  });
}

export const orchestratorContracts = {
  // The Docker host talks to a Docker engine, not to AWS: nothing beyond the common part. On the local stack its
  // containers stand for instances, interruptions included.
  docker: orchestratorContract<object>('docker', { environment: () => ({}), permissions: () => [], interruptions: true }),
  ec2: orchestratorContract<Ec2HostResources>('ec2', { environment: ec2HostEnvironment, permissions: ec2HostPermissions, interruptions: true }),
  eks: orchestratorContract<EksHostResources>('eks', { environment: eksHostEnvironment, permissions: eksHostPermissions }),
  lambda: orchestratorContract<LambdaHostResources>('lambda', { environment: lambdaHostEnvironment, permissions: lambdaHostPermissions }),
} satisfies Record<HostKind, unknown>;

export type { Ec2HostResources } from './hosts/ec2/contract';
export type { EksHostResources } from './hosts/eks/contract';
export type { LambdaHostResources } from './hosts/lambda-contract';
export { runnerInstanceContract } from './hosts/ec2/instance-contract';
export { AMI_CONTRACT } from './hosts/ec2/ami-contract';
