import { defineContract, type ParameterResource } from '@runners/shared/deployment';
import { z } from 'zod';

/** The runner Lambda's deployment contract (one per Lambda pool): one runner per asynchronous invocation. */

export interface RunnerLambdaResources {
  /** `/<prefix>`: this stack's parameters. */
  readonly parameterPrefix: string;
  /** Every Lambda runner's JIT parameter (a path pattern). */
  readonly jitParameters: ParameterResource;
}

const environment = z.object({
  /** `/<stack prefix>`: the JIT parameters are under `<prefix>/lambda-runners/`. */
  PARAMETER_PREFIX: z.string().regex(/^\/[A-Za-z0-9_.-]+$/),
  /** Where the image installs the actions runner. */
  RUNNER_DIR: z.string().startsWith('/').default('/opt/actions-runner'),
  WORK_ROOT: z.string().startsWith('/').default('/tmp'),
});

export const runnerLambdaContract = defineContract({
  function: 'runner-lambda',
  description: 'runs one runner per invocation',
  environment,
  environmentFor: (r: RunnerLambdaResources) => ({ PARAMETER_PREFIX: r.parameterPrefix }),
  permissions: (r: RunnerLambdaResources) => [
    { sid: 'OwnJitConfig', actions: ['ssm:GetParameter', 'ssm:PutParameter', 'ssm:DeleteParameter'], resources: [r.jitParameters.arn], why: 'reads its JIT config, marks it started, deletes it' },
  ],
  eventSources: [{ kind: 'async-invoke', by: 'orchestrator-lambda' }],
});

export type RunnerLambdaEnvironment = z.output<typeof environment>;
