import { parseEnvironment } from '@runners/shared';
import { z } from 'zod';

/** A JSON object in one variable, keyed by pool. */
function jsonRecord<T extends z.ZodType>(value: T) {
  return z
    .string()
    .default('{}')
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'expected JSON' });
        return z.NEVER;
      }
    })
    .pipe(z.record(z.string(), value));
}

/** An orchestrator's environment, read here and nowhere else. */
const environmentSchema = z.object({
  JOBS_TABLE_NAME: z.string().min(1),
  GITHUB_APP_ID_PARAMETER: z.string().startsWith('/'),
  GITHUB_PRIVATE_KEY_PARAMETER: z.string().startsWith('/'),
  /** Overrides the pools config's github.apiUrl (the local stack points it at the simulator). */
  GITHUB_API_URL: z.url().optional(),
  /** GitHub asks for a second between writes; the simulator needs none. */
  GITHUB_WRITE_SPACING_MS: z.coerce.number().int().min(0).max(10_000).default(1_000),
  HOST_CREATE_ATTEMPTS: z.coerce.number().int().min(1).max(10).default(3),
  MAX_LAUNCH_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(5),
  /** Tells this installation's hosts from another's (Docker labels, EC2 tags). */
  STACK_PREFIX: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$/, 'expected lowercase letters, digits and "-" (it is a Kubernetes label value and part of resource names)')
    .default('ephemeral-runners'),
  AWS_REGION: z.string().min(1).default('us-east-1'),
  /** EKS orchestrator: the cluster its pods run on (endpoint and CA come from DescribeCluster). */
  EKS_CLUSTER_NAME: z.string().regex(/^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/).optional(),
  /** EC2 orchestrator: each pool's launch template and subnets, from the stacks (JSON). */
  EC2_POOL_TEMPLATES: jsonRecord(z.object({ launchTemplateId: z.string().startsWith('lt-'), subnetIds: z.array(z.string().startsWith('subnet-')) })),
  /** Lambda orchestrator: each pool's runner function, from the stacks (JSON). */
  RUNNER_FUNCTIONS: jsonRecord(z.string().regex(/^[A-Za-z0-9_:-]{1,140}$/)),
});

export type OrchestratorEnvironment = z.output<typeof environmentSchema>;

export function readEnvironment(env: NodeJS.ProcessEnv = process.env): OrchestratorEnvironment {
  return parseEnvironment('orchestrator environment', environmentSchema, env);
}
