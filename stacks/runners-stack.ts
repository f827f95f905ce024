import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import type { PoolsConfig } from '@runners/shared';
import { TerraformOutput, TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
import { JobsTable } from './jobs-table';
import { resourceNames } from './resource-names';

export interface RunnersStackProps {
  readonly prefix: string;
  readonly region: string;
  readonly pools: PoolsConfig;
}

/**
 * The control plane, one construct per function group in the order of the data flow. Today: the Jobs table.
 * The API (producer), dispatch, pools and hosts constructs follow (see README, "Status").
 */
export class RunnersStack extends TerraformStack {
  readonly jobs: JobsTable;

  constructor(scope: Construct, id: string, props: RunnersStackProps) {
    super(scope, id);
    const names = resourceNames(props.prefix);
    new AwsProvider(this, 'aws', {
      region: props.region,
      // Every resource carries the product tag, which the reconciler and cost reports filter on.
      defaultTags: [{ tags: { 'ephemeral-runners:stack': props.prefix, 'ephemeral-runners:managed-by': 'cdktf' } }],
    });
    this.jobs = new JobsTable(this, 'jobs', { name: names.jobsTable });
    new TerraformOutput(this, 'jobs_table', { value: this.jobs.table.name });
    new TerraformOutput(this, 'pools', { value: props.pools.pools.map((p) => p.name) });
  }
}
