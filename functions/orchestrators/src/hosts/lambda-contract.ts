import type { ParameterResource, Permission } from '@runners/shared/deployment';

/** What the Lambda host adds to its orchestrator's deployment: the pools' runner functions and their JIT parameters. */

export interface LambdaHostResources {
  readonly runnerFunctions: readonly { readonly pool: string; readonly name: string; readonly arn: string }[];
  /** Every Lambda runner's marker parameter (a path pattern; no secret). */
  readonly runnerMarkers: ParameterResource;
}

export const lambdaHostEnvironment = (r: LambdaHostResources) => ({
  RUNNER_FUNCTIONS: JSON.stringify(Object.fromEntries(r.runnerFunctions.map((f) => [f.pool, f.name]))),
});

export const lambdaHostPermissions = (r: LambdaHostResources): Permission[] => [
  { sid: 'InvokeRunners', actions: ['lambda:InvokeFunction'], resources: r.runnerFunctions.map((f) => f.arn), why: 'one asynchronous invocation per runner' },
  {
    sid: 'RunnerMarkers',
    actions: ['ssm:PutParameter', 'ssm:DeleteParameter'],
    resources: [r.runnerMarkers.arn],
    why: "each invoked runner's marker (pool and job; the JIT config travels in the invocation)",
  },
  // DescribeParameters has no resource-level permissions: "*" is the only resource it accepts.
  { sid: 'ListJitConfigs', actions: ['ssm:DescribeParameters'], resources: ['*'], why: 'list() of the Lambda hosts' },
];
