import { EC2Client } from '@aws-sdk/client-ec2';
import { SSMClient } from '@aws-sdk/client-ssm';
import { countAwsCalls } from '@runners/shared/aws-calls';
import { Ec2Host } from '../hosts/ec2/ec2-host';
import { orchestratorHandler } from '../wiring';

/* Lambda entry of the EC2 orchestrator; each pool's launch template comes from EC2_POOL_TEMPLATES (see config.ts). */
export const handler = await orchestratorHandler(
  'ec2',
  (environment) =>
    new Ec2Host({
      ec2: countAwsCalls(new EC2Client({})),
      ssm: countAwsCalls(new SSMClient({})),
      region: environment.AWS_REGION,
      managedBy: environment.STACK_PREFIX,
      parameterPrefix: `/${environment.STACK_PREFIX}`,
      templates: (pool) => {
        const template = environment.EC2_POOL_TEMPLATES[pool];
        if (!template) throw new Error(`EC2_POOL_TEMPLATES has no launch template for pool ${pool}`);
        return template;
      },
    }),
);
