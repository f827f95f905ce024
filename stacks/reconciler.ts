import type { GitHubAppResources, TableResource } from '@runners/shared/deployment';
import { Construct } from 'constructs';
import { reconcilerContract } from '@runners/reconciler/contract';
import { bindContract, TracedFunction } from './traced-function';

/*
 * The reconciler: every 5 minutes, lost workflow_job webhooks are redelivered (once each), jobs queued on GitHub
 * that no webhook brought are recorded, leftover registrations are removed. One at a time.
 */

export interface ReconcilerProps {
  readonly prefix: string;
  readonly region: string;
  readonly jobsTable: TableResource;
  readonly githubApp: GitHubAppResources;
  readonly deploymentId: string;
}

export class Reconciler extends Construct {
  readonly function: TracedFunction;

  constructor(scope: Construct, id: string, props: ReconcilerProps) {
    super(scope, id);
    this.function = new TracedFunction(this, 'reconciler', {
      prefix: props.prefix,
      code: { bundle: 'reconciler' },
      reservedConcurrency: 1,
      deployment: bindContract(reconcilerContract, {
        region: props.region,
        deploymentId: props.deploymentId,
        jobsTable: props.jobsTable,
        githubApp: props.githubApp,
      }),
    });
  }
}
