import type { ParameterResource, Permission } from '@runners/shared/deployment';

/** What the Lambda host adds to its orchestrator's deployment: the pools' runner functions and their JIT parameters. */

export interface LambdaHostResources {
  readonly runnerFunctions: readonly { readonly pool: string; readonly name: string; readonly arn: string }[];
  /** Every Lambda runner's JIT parameter (a path pattern). */
  readonly jitParameters: ParameterResource;
}

export const lambdaHostEnvironment = (r: LambdaHostResources) => ({
  RUNNER_FUNCTIONS: JSON.stringify(Object.fromEntries(r.runnerFunctions.map((f) => [f.pool, f.name]))),
});

export const lambdaHostPermissions = (r: LambdaHostResources): Permission[] => [
  { sid: 'InvokeRunners', actions: ['lambda:InvokeFunction'], resources: r.runnerFunctions.map((f) => f.arn), why: 'one asynchronous invocation per runner' },
  { sid: 'JitConfigs', actions: ['ssm:PutParameter', 'ssm:GetParameter', 'ssm:DeleteParameter'], resources: [r.jitParameters.arn], why: "each runner's JIT config and started marker" },
  // DescribeParameters has no resource-level permissions: "*" is the only resource it accepts.
  { sid: 'ListJitConfigs', actions: ['ssm:DescribeParameters'], resources: ['*'], why: 'list() of the Lambda hosts' },
];
