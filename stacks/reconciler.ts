import { Construct } from 'constructs';
import type { Account } from './account';
import { RECONCILE_EVERY_MS } from './resource-names';
import { TracedFunction } from './traced-function';

/*
 * The reconciler: every 5 minutes, lost workflow_job webhooks are redelivered (once each), and jobs queued on GitHub
 * that no webhook brought are recorded. One at a time.
 */

export interface ReconcilerProps {
  readonly prefix: string;
  readonly account: Account;
  readonly tableArn: string;
  readonly tableName: string;
  readonly appIdParameter: string;
  readonly privateKeyParameter: string;
}

export class Reconciler extends Construct {
  readonly function: TracedFunction;

  constructor(scope: Construct, id: string, props: ReconcilerProps) {
    super(scope, id);
    this.function = new TracedFunction(this, 'reconciler', {
      functionName: `${props.prefix}-reconciler`,
      service: 'reconciler',
      description: 'redelivers lost workflow_job webhooks, records jobs whose webhooks never came',
      code: { bundle: 'reconciler' },
      timeoutSeconds: 120,
      reservedConcurrency: 1,
      environment: { JOBS_TABLE_NAME: props.tableName, GITHUB_APP_ID_PARAMETER: props.appIdParameter, GITHUB_PRIVATE_KEY_PARAMETER: props.privateKeyParameter },
      statements: [
        { sid: 'DeliveryLog', actions: ['dynamodb:PutItem', 'dynamodb:DeleteItem'], resources: [props.tableArn] },
        // Lost jobs: the producer's conditional write (and a read when it finds the job known).
        { sid: 'LostJobs', actions: ['dynamodb:UpdateItem', 'dynamodb:GetItem'], resources: [props.tableArn] },
        { sid: 'GitHubApp', actions: ['ssm:GetParameter', 'ssm:GetParameters'], resources: [props.account.parameterArn(props.appIdParameter), props.account.parameterArn(props.privateKeyParameter)] },
      ],
    });
    this.function.onSchedule('reconciler-tick', { ruleName: `${props.prefix}-reconciler-tick`, scheduleExpression: `rate(${RECONCILE_EVERY_MS / 60_000} minutes)`, description: 'redelivery and lost-job pass' });
  }
}
