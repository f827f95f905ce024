import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { scaleSetPools, type HostKind, type PoolsConfig } from '@runners/shared';
import { Annotations, TerraformOutput, TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
import { deploymentIdOf } from '@runners/shared';
import { Account } from './account';
import { Api } from './api';
import { Dispatch } from './dispatch';
import { dispatchTopology } from './dispatch-topology';
import { Ec2Hosts } from './hosts/ec2-hosts';
import { EksAccess } from './hosts/eks-access';
import { LambdaRunners } from './hosts/lambda-runners';
import { JobsTable } from './jobs-table';
import { MessagesKey } from './messages-key';
import { Listener } from './listener';
import { Messenger } from './messenger';
import { Network } from './network';
import { Observability } from './observability';
import { Orchestrators } from './orchestrators';
import { Publisher } from './publisher';
import { Notifier } from './notifier';
import { Reconciler } from './reconciler';
import { resourceNames } from './resource-names';
import { Secrets } from './secrets';
import type { TracedFunction } from './traced-function';

export interface RunnersStackProps {
  readonly prefix: string;
  readonly region: string;
  readonly pools: PoolsConfig;
  /** Bring your own VPC: runners go to these subnets. Omitted: a VPC with NAT is created. */
  readonly network?: { readonly vpcId: string; readonly subnetIds: readonly string[] };
  /** The cluster of the EKS pools (an access entry is added for the EKS orchestrator). */
  readonly eksClusterName?: string;
  /** Tag of the runner Lambda image in the stack's ECR repository. */
  readonly runnerImageTag?: string;
  /** Subscribed to the alarm topic. */
  readonly alarmEmail?: string;
}

/** The control plane, one construct per function group, in the order of the data flow. */
export class RunnersStack extends TerraformStack {
  allFunctions(): TracedFunction[] {
    return [
      ...(this.api ? [this.api.producer] : []),
      ...(this.listener ? [this.listener.function] : []),
      this.messenger.function,
      this.publisher.function,
      ...this.orchestrators.functions.values(),
      this.reconciler.function,
      this.notifier.function,
      ...(this.lambdaRunners?.functions.values() ?? []),
    ];
  }

  readonly network: Network;
  readonly secrets: Secrets;
  readonly jobs: JobsTable;
  /** The webhook endpoint and the producer: when some pool takes its jobs from webhooks. */
  readonly api?: Api;
  /** The scale-set listener: when some pool takes its jobs from a scale set. */
  readonly listener?: Listener;
  readonly messenger: Messenger;
  readonly dispatch: Dispatch;
  readonly publisher: Publisher;
  readonly orchestrators: Orchestrators;
  readonly reconciler: Reconciler;
  readonly notifier: Notifier;
  readonly observability: Observability;
  readonly lambdaRunners?: LambdaRunners;

  constructor(scope: Construct, id: string, props: RunnersStackProps) {
    super(scope, id);
    const { prefix, pools } = props;
    const names = resourceNames(prefix);
    new AwsProvider(this, 'aws', {
      region: props.region,
      // Every resource carries the product tag, which the reconciler and cost reports filter on.
      defaultTags: [{ tags: { 'ephemeral-runners:stack': prefix, 'ephemeral-runners:managed-by': 'cdktf' } }],
    });
    const account = new Account(this, 'account');
    const poolsOf = <K extends HostKind>(kind: K) => pools.pools.filter((p): p is Extract<PoolsConfig['pools'][number], { host: K }> => p.host === kind);

    this.network = new Network(this, 'network', { prefix, ...(props.network ? { existing: props.network } : {}) });
    // Who decrypts the secrets: the producer (webhook secret), the reconciler, the notifier and every orchestrator (the App key).
    const orchestratorKinds = [...new Set(pools.pools.map((p) => p.host))].filter((kind) => kind !== 'eks' || props.eksClusterName);
    const webhookIntake = pools.pools.some((p) => p.intake === 'webhook');
    const scaleSetIntake = scaleSetPools(pools.pools).length > 0;
    const readerRoleNames = [
      ...(webhookIntake ? ['producer'] : []),
      ...(scaleSetIntake ? ['listener'] : []),
      'reconciler',
      'notifier',
      ...orchestratorKinds.map((kind) => `orchestrator-${kind}`),
    ].map((fn) => `${prefix}-${fn}`);
    this.secrets = new Secrets(this, 'secrets', { names, account, readerRoleNames });
    this.jobs = new JobsTable(this, 'jobs', { name: names.jobsTable });
    const jobsTable = { name: this.jobs.table.name, arn: this.jobs.table.arn, streamArn: this.jobs.table.streamArn };
    const parameter = (p: { name: string }) => ({ name: p.name, arn: account.parameterArn(p.name) });
    const secretsKey = { arn: this.secrets.key.arn };
    const githubApp = { appId: parameter(this.secrets.appId), privateKey: parameter(this.secrets.privateKey), secretsKey };
    if (webhookIntake)
      this.api = new Api(this, 'api', {
        prefix,
        region: account.region,
        jobsTable,
        webhookSecret: { ...parameter(this.secrets.webhookSecret), key: secretsKey },
      });
    const messagesKey = new MessagesKey(this, 'messages-key', { prefix, account });
    this.dispatch = new Dispatch(this, 'dispatch', dispatchTopology(prefix, pools), messagesKey.key.arn);
    const encryption = { region: account.region, messagesKey: { arn: messagesKey.key.arn } };
    const topics = { jobsTopic: { arn: this.dispatch.jobsTopic.arn }, publisherTopic: { arn: this.dispatch.publisherTopic.arn } };
    this.messenger = new Messenger(this, 'messenger', { prefix, jobsTable, publisherTopic: topics.publisherTopic, ...encryption });
    this.publisher = new Publisher(this, 'publisher', { prefix, jobsTable, ...topics, ...encryption });

    const hosts: { ec2?: Ec2Hosts; eks?: EksAccess; lambda?: LambdaRunners } = {};
    if (poolsOf('ec2').length > 0) {
      hosts.ec2 = new Ec2Hosts(this, 'ec2-hosts', {
        prefix,
        account,
        pools: poolsOf('ec2'),
        subnetIds: this.network.runnerSubnetIds,
        securityGroupId: this.network.runnerSecurityGroup.id,
      });
    }
    if (poolsOf('eks').length > 0) {
      if (props.eksClusterName) hosts.eks = new EksAccess(this, 'eks-access', { account, clusterName: props.eksClusterName, pools: poolsOf('eks') });
      else
        Annotations.of(this).addWarning(
          `pools ${poolsOf('eks')
            .map((p) => p.name)
            .join(', ')} use host "eks" but EKS_CLUSTER_NAME is not set: no EKS orchestrator is deployed`,
        );
    }
    if (poolsOf('lambda').length > 0) {
      this.lambdaRunners = new LambdaRunners(this, 'lambda-runners', { prefix, account, pools: poolsOf('lambda'), imageTag: props.runnerImageTag ?? 'latest' });
      hosts.lambda = this.lambdaRunners;
    }
    const githubApps = new Map(
      pools.github.apps.map((name) => {
        const other = names.otherGithubAppParameters(name);
        return [name, { name, appId: parameter({ name: other.appId }), privateKey: parameter({ name: other.privateKey }) }] as const;
      }),
    );
    this.orchestrators = new Orchestrators(this, 'orchestrators', {
      prefix,
      account,
      pools,
      poolQueues: this.dispatch.poolQueues,
      jobsTable,
      githubApp,
      githubApps,
      hosts,
    });
    if (scaleSetIntake)
      this.listener = new Listener(this, 'listener', {
        prefix,
        region: account.region,
        jobsTable,
        githubApp,
        // Only the Apps the scale-set pools use.
        githubApps: [...githubApps.values()].filter((app) => scaleSetPools(pools.pools).some((p) => p.githubApp === app.name)),
        deploymentId: deploymentIdOf(prefix, account),
      });

    this.reconciler = new Reconciler(this, 'reconciler', {
      prefix,
      region: account.region,
      jobsTable,
      githubApp,
      deploymentId: deploymentIdOf(prefix, account),
    });
    this.notifier = new Notifier(this, 'notifier', { prefix, region: account.region, jobsTable, githubApp });

    this.observability = new Observability(this, 'observability', {
      prefix,
      region: props.region,
      pools: pools.pools,
      poolQueues: this.dispatch.poolQueues,
      deadLetterQueues: [
        ...[...this.dispatch.poolQueues].map(([pool, q]) => ({ name: pool, queueName: q.deadLetterQueue.name })),
        { name: 'messenger', queueName: this.messenger.deadLetterQueue.name },
        { name: 'notifier', queueName: this.notifier.deadLetterQueue.name },
        ...this.allFunctions().flatMap((f) => (f.failures ? [{ name: `${f.functionName}-async`, queueName: f.failures.name }] : [])),
      ],
      functions: this.allFunctions(),
      ...(props.alarmEmail ? { alarmEmail: props.alarmEmail } : {}),
      messagesKeyArn: messagesKey.key.arn,
    });

    if (this.api) new TerraformOutput(this, 'webhook_url', { value: this.api.webhookUrl, description: 'paste into the GitHub App as its webhook URL' });
    new TerraformOutput(this, 'jobs_table', { value: this.jobs.table.name });
    new TerraformOutput(this, 'secrets_key', { value: this.secrets.keyAlias, description: 'scripts/put-secrets.sh encrypts the GitHub App secrets with it' });
    new TerraformOutput(this, 'topics', { value: { publisher: this.dispatch.publisherTopic.arn, jobs: this.dispatch.jobsTopic.arn } });
    new TerraformOutput(this, 'pool_queues', { value: Object.fromEntries([...this.dispatch.poolQueues].map(([pool, q]) => [pool, q.queue.url])) });
    new TerraformOutput(this, 'dashboard_url', { value: this.observability.dashboardUrl });
    new TerraformOutput(this, 'pools', { value: pools.pools.map((p) => p.name) });
    if (this.lambdaRunners) new TerraformOutput(this, 'runner_image_repository', { value: this.lambdaRunners.repository.repositoryUrl });
    if (this.orchestrators.dockerRole)
      new TerraformOutput(this, 'docker_orchestrator_role', {
        value: this.orchestrators.dockerRole.arn,
        description: 'assume it to run the Docker orchestrator on the Docker machine',
      });
  }
}
