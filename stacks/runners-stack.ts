import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import type { PoolsConfig } from '@runners/shared';
import { TerraformOutput, TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
import { Dispatch } from './dispatch';
import { dispatchTopology } from './dispatch-topology';
import { JobsTable } from './jobs-table';
import { resourceNames } from './resource-names';

export interface RunnersStackProps {
  readonly prefix: string;
  readonly region: string;
  readonly pools: PoolsConfig;
}

/**
 * The control plane, one construct per function group in the order of the data flow. Today: the Jobs table and the
 * dispatch topology. The functions, hosts and observability constructs follow (see README, "Status").
 */
export class RunnersStack extends TerraformStack {
  readonly jobs: JobsTable;
  readonly dispatch: Dispatch;

  constructor(scope: Construct, id: string, props: RunnersStackProps) {
    super(scope, id);
    const names = resourceNames(props.prefix);
    new AwsProvider(this, 'aws', {
      region: props.region,
      // Every resource carries the product tag, which the reconciler and cost reports filter on.
      defaultTags: [{ tags: { 'ephemeral-runners:stack': props.prefix, 'ephemeral-runners:managed-by': 'cdktf' } }],
    });
    this.jobs = new JobsTable(this, 'jobs', { name: names.jobsTable });
    this.dispatch = new Dispatch(this, 'dispatch', dispatchTopology(props.prefix, props.pools));
    new TerraformOutput(this, 'jobs_table', { value: this.jobs.table.name });
    new TerraformOutput(this, 'pool_queues', {
      value: Object.fromEntries([...this.dispatch.poolQueues].map(([pool, q]) => [pool, q.queue.url])),
    });
    new TerraformOutput(this, 'pools', { value: props.pools.pools.map((p) => p.name) });
  }
}
