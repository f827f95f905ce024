import { LambdaClient } from '@aws-sdk/client-lambda';
import { SSMClient } from '@aws-sdk/client-ssm';
import { countAwsCalls } from '@runners/shared/aws-calls';
import { LambdaHost } from '../hosts/lambda-host';
import { orchestratorHandler } from '../wiring';

/* Lambda entry of the Lambda orchestrator; each pool's runner function comes from RUNNER_FUNCTIONS (see config.ts). */
export const handler = await orchestratorHandler(
  'lambda',
  (environment) =>
    new LambdaHost({
      lambda: countAwsCalls(new LambdaClient({})),
      ssm: countAwsCalls(new SSMClient({})),
      parameterPrefix: `/${environment.STACK_PREFIX}`,
      functionName: (pool) => {
        const name = environment.RUNNER_FUNCTIONS[pool];
        if (!name) throw new Error(`RUNNER_FUNCTIONS has no runner function for pool ${pool}`);
        return name;
      },
    }),
);
