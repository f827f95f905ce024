import { EC2Client } from '@aws-sdk/client-ec2';
import { SSMClient } from '@aws-sdk/client-ssm';
import { countAwsCalls } from '@runners/shared';
import { z } from 'zod';
import { Ec2Host } from '../hosts/ec2/ec2-host';
import { orchestratorHandler } from '../wiring';

/*
 * Lambda entry of the EC2 orchestrator. The stacks pass each pool's launch template and subnets as
 * EC2_POOL_TEMPLATES = {"<pool>": {"launchTemplateId": "lt-…", "subnetIds": ["subnet-…"]}}.
 */
const templates = z
  .record(z.string(), z.object({ launchTemplateId: z.string().startsWith('lt-'), subnetIds: z.array(z.string().startsWith('subnet-')) }))
  .parse(JSON.parse(process.env.EC2_POOL_TEMPLATES ?? '{}'));

export const handler = await orchestratorHandler('ec2', (environment) => {
  const region = process.env.AWS_REGION ?? 'us-east-1';
  return new Ec2Host({
    ec2: countAwsCalls(new EC2Client({})),
    ssm: countAwsCalls(new SSMClient({})),
    region,
    managedBy: environment.STACK_PREFIX,
    parameterPrefix: `/${environment.STACK_PREFIX}`,
    runnerDir: { linux: '/opt/actions-runner', windows: 'C:\\actions-runner', macos: '/opt/actions-runner' },
    templates: (pool) => {
      const template = templates[pool];
      if (!template) throw new Error(`EC2_POOL_TEMPLATES has no launch template for pool ${pool}`);
      return template;
    },
  });
});
