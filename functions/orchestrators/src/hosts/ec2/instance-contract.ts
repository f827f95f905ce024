import { INSTANCE_ID_TAG } from '@runners/shared/ssm';
import { defineContract, type ParameterResource } from '@runners/shared/deployment';
import * as z from 'zod';

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
    {
      sid: 'OwnJitConfig',
      actions: ['ssm:GetParameters', 'ssm:DeleteParameter'],
      resources: [r.jitParameters.arn],
      // Only parameters tagged with this instance's id: `ec2:SourceInstanceARN` is in every request signed with
      // instance-profile credentials (IAM user guide, global condition keys; terraform-aws-github-runner #3918).
      conditions: [{ test: 'StringLike', variable: 'ec2:SourceInstanceARN', values: [`*/\${aws:ResourceTag/${INSTANCE_ID_TAG}}`] }],
      why: 'the bootstrap reads its JIT config and deletes it before the runner starts — its own, no other',
    },
  ],
  eventSources: [],
});
