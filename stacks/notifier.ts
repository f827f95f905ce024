import type { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import type { GitHubAppResources, StreamTableResource } from '@runners/shared/deployment';
import { Construct } from 'constructs';
import { notifierContract } from '@runners/notifier/contract';
import { streamDeadLetters, streamMapping } from './stream-consumer';
import { bindContract, TracedFunction } from './traced-function';

/* Jobs table stream (second consumer) and a one-minute tick → notifier → check runs on jobs in trouble. */

export interface NotifierProps {
  readonly prefix: string;
  readonly region: string;
  readonly jobsTable: StreamTableResource;
  readonly githubApp: GitHubAppResources;
}

export class Notifier extends Construct {
  readonly function: TracedFunction;
  readonly deadLetterQueue: SqsQueue;

  constructor(scope: Construct, id: string, props: NotifierProps) {
    super(scope, id);
    this.deadLetterQueue = streamDeadLetters(this, `${props.prefix}-notifier-dlq`);
    this.function = new TracedFunction(this, 'notifier', {
      prefix: props.prefix,
      code: { bundle: 'notifier' },
      deployment: bindContract(notifierContract, {
        region: props.region,
        jobsTable: props.jobsTable,
        githubApp: props.githubApp,
        deadLetterQueue: { arn: this.deadLetterQueue.arn },
      }),
    });
    streamMapping(this, this.function, { jobsTable: props.jobsTable, eventSources: notifierContract.eventSources, deadLetters: this.deadLetterQueue });
  }
}
