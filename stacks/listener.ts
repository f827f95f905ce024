import type { ExtraGitHubApp, GitHubAppResources, TableResource } from '@runners/shared/deployment';
import { Construct } from 'constructs';
import { listenerContract } from '@runners/listener/contract';
import { bindContract, TracedFunction } from './traced-function';

/*
 * The listener of the scale-set pools: invoked every minute; the invocation that holds a pool's lease long-polls its
 * scale set for up to 15 minutes, the others end at once (or wait for a named hand-over). Deployed only when a pool
 * takes its jobs from a scale set.
 */

export interface ListenerProps {
  readonly prefix: string;
  readonly region: string;
  readonly jobsTable: TableResource;
  readonly githubApp: GitHubAppResources;
  readonly githubApps: readonly ExtraGitHubApp[];
  readonly deploymentId: string;
}

export class Listener extends Construct {
  readonly function: TracedFunction;

  constructor(scope: Construct, id: string, props: ListenerProps) {
    super(scope, id);
    this.function = new TracedFunction(this, 'listener', {
      prefix: props.prefix,
      code: { bundle: 'listener' },
      deployment: bindContract(listenerContract, {
        region: props.region,
        deploymentId: props.deploymentId,
        jobsTable: props.jobsTable,
        githubApp: props.githubApp,
        githubApps: props.githubApps,
      }),
    });
  }
}
