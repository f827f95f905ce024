/*
 * cdktf entry: `npx tsx main.ts` (or `make synth`) writes plain Terraform JSON to cdktf.out/stacks/runners/cdk.tf.json.
 * Settings come from the environment (.env in the deployer container; see .env.example).
 */
import { App, LocalBackend, S3Backend } from 'cdktf';
import { execFileSync } from 'node:child_process';
import { ConfigError, cronProblem, parsePoolsConfig, poolsConfigWarnings, type PoolsConfig } from '@runners/shared';
import poolsConfig from './pools.config';
import { RunnersStack } from './stacks/runners-stack';
import { DEFAULT_PREFIX } from './stacks/resource-names';

const env = process.env;

function commitTag(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unversioned';
  }
}
const subnetIds = (env.SUBNET_IDS ?? '')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);
if (!!env.VPC_ID !== subnetIds.length > 0) throw new Error('set both VPC_ID and SUBNET_IDS to bring your own network, or neither');

/** A bad config is the user's to fix: its message, not a stack trace. */
function pools(): PoolsConfig {
  try {
    const config = parsePoolsConfig(poolsConfig, 'pools.config.ts', { cron: cronProblem });
    for (const warning of poolsConfigWarnings(config)) console.warn(`pools.config.ts: warning: ${warning}`);
    return config;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(1);
  }
}

const app = new App();
const prefix = env.STACK_PREFIX || DEFAULT_PREFIX;
const stack = new RunnersStack(app, 'runners', {
  prefix,
  region: env.AWS_REGION || 'us-east-1',
  pools: pools(),
  ...(env.VPC_ID ? { network: { vpcId: env.VPC_ID, subnetIds } } : {}),
  ...(env.EKS_CLUSTER_NAME ? { eksClusterName: env.EKS_CLUSTER_NAME } : {}),
  // Immutable tags: one per commit unless given (scripts/deploy.sh pushes the same).
  runnerImageTag: env.RUNNER_IMAGE_TAG || commitTag(),
  ...(env.ALARM_EMAIL ? { alarmEmail: env.ALARM_EMAIL } : {}),
});
// Shared state for the plan in pull requests and for deploys from any machine; local state when unset.
if (env.TF_STATE_BUCKET) {
  new S3Backend(stack, {
    bucket: env.TF_STATE_BUCKET,
    key: `${prefix}/terraform.tfstate`,
    region: env.TF_STATE_REGION || env.AWS_REGION || 'us-east-1',
    encrypt: true,
  });
  // S3-native locking (Terraform 1.10+); cdktf's backend type predates the option.
  stack.addOverride('terraform.backend.s3.use_lockfile', true);
} else {
  // Relative to Terraform's working directory (cdktf.out/stacks/runners): .terraform-state/ at the repository root,
  // git-ignored, kept across synths, the same path on every machine and in the deployer container.
  new LocalBackend(stack, { path: '../../../.terraform-state/runners.tfstate' });
}
app.synth();
