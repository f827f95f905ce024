import { defineContract } from '@runners/shared/deployment';
import * as z from 'zod';

/*
 * The runner Lambda's deployment contract (one function per Lambda pool): one runner per asynchronous invocation.
 * Its JIT config comes in the invocation, so its role needs nothing beyond its logs and traces: a job that finds the
 * function's credentials can reach no other runner's config, no table, no queue.
 */

const environment = z.object({
  /** Where the image installs the actions runner. */
  RUNNER_DIR: z.string().startsWith('/').default('/opt/actions-runner'),
  /** Lambda's only writable place; emptied after every job. */
  WORK_ROOT: z.string().startsWith('/').default('/tmp'),
});

export const runnerLambdaContract = defineContract({
  function: 'runner-lambda',
  description: 'runs one runner per invocation',
  environment,
  environmentFor: () => ({}),
  permissions: () => [],
  eventSources: [{ kind: 'async-invoke', by: 'orchestrator-lambda' }],
});

export type RunnerLambdaEnvironment = z.output<typeof environment>;
