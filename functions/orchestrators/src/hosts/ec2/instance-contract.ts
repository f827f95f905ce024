import { defineContract, type ParameterResource } from '@runners/shared/deployment';
import { z } from 'zod';

/*
 * The EC2 runners' instance role: a principal of its own. What the bootstrap (bootstrap.ts) calls with the instance
 * profile's credentials, and nothing more. Its "environment" is the user data, rendered by the EC2 host.
 */

export interface RunnerInstanceResources {
  /** Every runner's JIT parameter (a path pattern). */
  readonly jitParameters: ParameterResource;
}

export const runnerInstanceContract = defineContract({
  function: 'runner-instance',
  description: 'EC2 runners: read and delete their JIT parameter',
  environment: z.object({}),
  environmentFor: () => ({}),
  permissions: (r: RunnerInstanceResources) => [
    { sid: 'OwnJitConfig', actions: ['ssm:GetParameter', 'ssm:DeleteParameter'], resources: [r.jitParameters.arn], why: 'the bootstrap reads its JIT config and deletes it before the runner starts' },
  ],
  eventSources: [],
});
