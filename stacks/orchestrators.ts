import type { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { LambdaEventSourceMapping } from '@cdktf/provider-aws/lib/lambda-event-source-mapping';
import type { GitHubAppResources, TableResource } from '@runners/shared/deployment';
import type { HostKind, PoolsConfig } from '@runners/shared';
import { Construct } from 'constructs';
import { orchestratorContracts, type ExtraGitHubApp, type OrchestratorResources } from '@runners/orchestrators/contract';
import type { Ec2HostResources } from '@runners/orchestrators/contract';
import type { EksHostResources } from '@runners/orchestrators/contract';
import type { LambdaHostResources } from '@runners/orchestrators/contract';
import { deploymentIdOf } from '@runners/shared';
import type { Account } from './account';
import { ContractRole } from './contract-role';
import type { PoolQueueResources } from './dispatch';
import type { HostResources } from './hosts/host-resources';
import { bindContract, TracedFunction, type BoundDeployment } from './traced-function';

/*
 * One orchestrator function per host kind in use, fed by the queues of that kind's pools (partial batch failures).
 * Docker pools have no orchestrator function (Lambda has no Docker engine): their queue is for an orchestrator you
 * run on the Docker machine, which gets a role of its own with exactly its contract's statements.
 */

export interface OrchestratorsProps {
  readonly prefix: string;
  readonly account: Account;
  readonly pools: PoolsConfig;
  readonly poolQueues: ReadonlyMap<string, PoolQueueResources>;
  readonly jobsTable: TableResource;
  readonly githubApp: GitHubAppResources;
  /** The other GitHub Apps (github.apps): their id and key parameters, by name. */
  readonly githubApps: ReadonlyMap<string, ExtraGitHubApp>;
  readonly hosts: {
    readonly ec2?: HostResources<Ec2HostResources>;
    readonly eks?: HostResources<EksHostResources>;
    readonly lambda?: HostResources<LambdaHostResources>;
  };
}

export class Orchestrators extends Construct {
  readonly functions = new Map<HostKind, TracedFunction>();
  /** For the Docker orchestrator run on the Docker machine (assumable by principals of this account allowed to). */
  readonly dockerRole?: IamRole;

  constructor(scope: Construct, id: string, props: OrchestratorsProps) {
    super(scope, id);
    const poolsOf = (kind: HostKind) => props.pools.pools.filter((p) => p.host === kind);
    const common = (kind: HostKind): OrchestratorResources => ({
      prefix: props.prefix,
      deploymentId: deploymentIdOf(props.prefix, props.account),
      region: props.account.region,
      jobsTable: props.jobsTable,
      githubApp: props.githubApp,
      // Only the Apps this kind's pools register with: an orchestrator reads no other App's key.
      githubApps: [...new Set(poolsOf(kind).map((p) => p.githubApp))].flatMap((name) => props.githubApps.get(name) ?? []),
      poolQueues: poolsOf(kind).map((p) => ({ arn: props.poolQueues.get(p.name)!.queue.arn })),
    });
    const { ec2, eks, lambda } = props.hosts;
    if (ec2 && poolsOf('ec2').length > 0) this.deploy('ec2', bindContract(orchestratorContracts.ec2, { ...common('ec2'), ...ec2.resources }), props, ec2);
    if (eks && poolsOf('eks').length > 0) this.deploy('eks', bindContract(orchestratorContracts.eks, { ...common('eks'), ...eks.resources }), props, eks);
    if (lambda && poolsOf('lambda').length > 0)
      this.deploy('lambda', bindContract(orchestratorContracts.lambda, { ...common('lambda'), ...lambda.resources }), props, lambda);
    if (poolsOf('docker').length > 0) {
      const docker = bindContract(orchestratorContracts.docker, common('docker'));
      this.dockerRole = new ContractRole(this, 'docker', {
        name: `${props.prefix}-${docker.function}`,
        description: `${docker.description}, run on the Docker machine`,
        assumedBy: { accountArn: props.account.arn('iam', 'root', { region: false }) },
        statements: docker.statements,
      }).role;
    }
  }

  private deploy(kind: Exclude<HostKind, 'docker'>, deployment: BoundDeployment, props: OrchestratorsProps, host: HostResources<unknown>): void {
    const pools = props.pools.pools.filter((p) => p.host === kind);
    const orchestrator = new TracedFunction(this, kind, { prefix: props.prefix, code: { bundle: `orchestrator-${kind}` }, deployment });
    host.attachOrchestrator?.(orchestrator.role);
    const queueSource = deployment.eventSources.find((s) => s.kind === 'sqs-queue')!;
    for (const pool of pools) {
      new LambdaEventSourceMapping(this, `${pool.name}-queue`, {
        eventSourceArn: props.poolQueues.get(pool.name)!.queue.arn,
        functionName: orchestrator.function.arn,
        batchSize: queueSource.batchSize,
        maximumBatchingWindowInSeconds: queueSource.maximumBatchingWindowSeconds,
        functionResponseTypes: ['ReportBatchItemFailures'],
        // launchesPerMinute is the real brake; this only keeps one pool from taking every concurrent execution.
        scalingConfig: { maximumConcurrency: Math.max(2, Math.min(50, Math.ceil(pool.launchesPerMinute / 10))) },
      });
    }
    this.functions.set(kind, orchestrator);
  }
}
