import { LambdaEventSourceMapping } from '@cdktf/provider-aws/lib/lambda-event-source-mapping';
import type { HostKind, PoolsConfig } from '@runners/shared';
import { Construct } from 'constructs';
import type { Account } from './account';
import type { PoolQueueResources } from './dispatch';
import { POOL_QUEUE_VISIBILITY_SECONDS } from './dispatch-topology';
import { RECONCILE_EVERY_MS } from './resource-names';
import type { HostResources } from './hosts/host-resources';
import { TracedFunction } from './traced-function';

/*
 * One orchestrator function per host kind in use, fed by the queues of that kind's pools (partial batch failures).
 * Docker pools have no orchestrator on AWS: Lambda has no Docker engine; their queue is for an orchestrator you run
 * on the Docker machine (the local stack's wiring).
 */

export interface OrchestratorsProps {
  readonly prefix: string;
  readonly account: Account;
  readonly pools: PoolsConfig;
  readonly poolQueues: ReadonlyMap<string, PoolQueueResources>;
  readonly tableArn: string;
  readonly tableName: string;
  readonly appIdParameter: string;
  readonly privateKeyParameter: string;
  readonly hosts: Partial<Record<Exclude<HostKind, 'docker'>, HostResources>>;
}

/** Under the pool queues' visibility timeout, so a message is not handed out again while it is being worked on. */
export const ORCHESTRATOR_TIMEOUT_SECONDS = POOL_QUEUE_VISIBILITY_SECONDS - 60;

export class Orchestrators extends Construct {
  readonly functions = new Map<HostKind, TracedFunction>();

  constructor(scope: Construct, id: string, props: OrchestratorsProps) {
    super(scope, id);
    const { account } = props;
    for (const [kind, host] of Object.entries(props.hosts) as [Exclude<HostKind, 'docker'>, HostResources][]) {
      const pools = props.pools.pools.filter((p) => p.host === kind);
      if (pools.length === 0) continue;
      const queues = pools.map((p) => props.poolQueues.get(p.name)!);
      const orchestrator = new TracedFunction(this, kind, {
        functionName: `${props.prefix}-orchestrator-${kind}`,
        service: `orchestrator-${kind}`,
        description: `launches and tears down ${kind} runners`,
        code: { bundle: `orchestrator-${kind}` },
        timeoutSeconds: ORCHESTRATOR_TIMEOUT_SECONDS,
        environment: {
          JOBS_TABLE_NAME: props.tableName,
          GITHUB_APP_ID_PARAMETER: props.appIdParameter,
          GITHUB_PRIVATE_KEY_PARAMETER: props.privateKeyParameter,
          STACK_PREFIX: props.prefix,
          ...host.environment,
        },
        statements: [
          { sid: 'Launches', actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:UpdateItem', 'dynamodb:Query'], resources: [props.tableArn, `${props.tableArn}/index/*`] },
          { sid: 'GitHubApp', actions: ['ssm:GetParameter', 'ssm:GetParameters'], resources: [account.parameterArn(props.appIdParameter), account.parameterArn(props.privateKeyParameter)] },
          { sid: 'PoolQueues', actions: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueAttributes'], resources: queues.map((q) => q.queue.arn) },
          ...host.statements,
        ],
      });
      host.attachOrchestrator?.(orchestrator.role);
      pools.forEach((pool, i) => {
        new LambdaEventSourceMapping(this, `${pool.name}-queue`, {
          eventSourceArn: queues[i]!.queue.arn,
          functionName: orchestrator.function.arn,
          batchSize: 10,
          maximumBatchingWindowInSeconds: 1,
          functionResponseTypes: ['ReportBatchItemFailures'],
          // launchesPerMinute is the real brake; this only keeps one pool from taking every concurrent execution.
          scalingConfig: { maximumConcurrency: Math.max(2, Math.min(50, Math.ceil(pool.launchesPerMinute / 10))) },
        });
      });
      // The reconcile pass: the same function, ticked (leaked hosts, launches that never produced a runner).
      orchestrator.onSchedule('reconcile-tick', { ruleName: `${props.prefix}-reconcile-${kind}`, scheduleExpression: `rate(${RECONCILE_EVERY_MS / 60_000} minutes)`, description: `reconcile pass of the ${kind} hosts` });
      this.functions.set(kind, orchestrator);
    }
  }
}
