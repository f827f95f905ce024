/*
 * cdktf entry: `npx tsx main.ts` (or `make synth`) writes plain Terraform JSON to cdktf.out/stacks/<stack>/cdk.tf.json.
 * STACK_PREFIX and AWS_REGION come from the environment (.env in the deployer container).
 */
import { App } from 'cdktf';
import { parsePoolsConfig } from '@runners/shared';
import poolsConfig from './pools.config';
import { RunnersStack } from './stacks/runners-stack';
import { DEFAULT_PREFIX } from './stacks/resource-names';

const app = new App();
new RunnersStack(app, 'runners', {
  prefix: process.env.STACK_PREFIX ?? DEFAULT_PREFIX,
  region: process.env.AWS_REGION ?? 'us-east-1',
  pools: parsePoolsConfig(poolsConfig, 'pools.config.ts'),
});
app.synth();
