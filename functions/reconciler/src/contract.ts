import { defineContract, githubAppPermissions, HOST_RULES_EVERY_MINUTES, type GitHubAppResources, type TableResource } from '@runners/shared/deployment';
import { JOBS_TABLE } from '@runners/shared';
import * as z from 'zod';

/** The reconciler's deployment contract: redelivery of lost webhooks, lost jobs, leftover registrations. */

export interface ReconcilerResources {
  readonly region: string;
  /** `<prefix>:<account>:<region>`: only runners with this deployment's label are its to remove. */
  readonly deploymentId: string;
  readonly jobsTable: TableResource;
  readonly githubApp: GitHubAppResources;
}

const environment = z.object({
  JOBS_TABLE_NAME: z.string().min(1),
  GITHUB_APP_ID_PARAMETER: z.string().startsWith('/'),
  GITHUB_PRIVATE_KEY_PARAMETER: z.string().startsWith('/'),
  GITHUB_API_URL: z.url().optional(),
  DEPLOYMENT_ID: z.string().min(1),
  /** How far back each pass looks; passes run every 5 minutes, so an hour looks at each delivery a dozen times. */
  REDELIVERY_LOOKBACK_MINUTES: z.coerce
    .number()
    .int()
    .min(5)
    .max(3 * 24 * 60)
    .default(60),
  /** A delivery younger than this may still be in flight (GitHub waits 10 s for an answer). */
  REDELIVERY_SETTLE_SECONDS: z.coerce.number().int().min(0).max(3_600).default(60),
  MAX_REDELIVERIES_PER_PASS: z.coerce.number().int().min(1).max(1_000).default(200),
  /** A job queued on GitHub this long with no record of ours is recorded from the API (its webhook is lost). */
  LOST_JOB_SETTLE_SECONDS: z.coerce
    .number()
    .int()
    .min(0)
    .max(24 * 3_600)
    .default(120),
  MAX_REPOSITORIES_PER_PASS: z.coerce.number().int().min(1).max(10_000).default(100),
  MAX_RUNS_PER_REPOSITORY: z.coerce.number().int().min(1).max(1_000).default(20),
  /** Open records (holding a slot) asked about on GitHub per pass, round all of them: one conditional read each. */
  MAX_JOB_CHECKS_PER_PASS: z.coerce.number().int().min(1).max(5_000).default(200),
  /** An offline registration whose record changed more recently than this is left alone (it may be mid-launch). */
  REGISTRATION_GRACE_SECONDS: z.coerce.number().int().min(0).max(3_600).default(120),
});

export const reconcilerContract = defineContract({
  function: 'reconciler',
  description: 'redelivers lost workflow_job webhooks, records jobs whose webhooks never came, moves open records on to what GitHub says',
  environment,
  environmentFor: (r: ReconcilerResources) => ({
    JOBS_TABLE_NAME: r.jobsTable.name,
    GITHUB_APP_ID_PARAMETER: r.githubApp.appId.name,
    GITHUB_PRIVATE_KEY_PARAMETER: r.githubApp.privateKey.name,
    DEPLOYMENT_ID: r.deploymentId,
  }),
  permissions: (r: ReconcilerResources) => [
    {
      sid: 'DeliveryLog',
      actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
      resources: [r.jobsTable.arn],
      why: 'per lost delivery its attempts so far and one conditional write per redelivery (released if GitHub refuses)',
    },
    {
      sid: 'LostJobs',
      actions: ['dynamodb:BatchGetItem', 'dynamodb:UpdateItem', 'dynamodb:GetItem'],
      resources: [r.jobsTable.arn],
      why: "which jobs are known (one batch read per 100), the producer's conditional write for the lost ones, a runner's record",
    },
    {
      sid: 'OpenJobs',
      actions: ['dynamodb:Query'],
      resources: [`${r.jobsTable.arn}/index/${JOBS_TABLE.indexes.slotsByPool.name}`],
      why: 'the records holding a slot, per pool, to ask GitHub about (their records through the batch read above)',
    },
    ...githubAppPermissions(r.githubApp, r.region),
  ],
  timeoutSeconds: 120,
  eventSources: [
    { kind: 'schedule', name: 'tick', everyMinutes: HOST_RULES_EVERY_MINUTES, description: 'redelivery, lost-job, open-job and leftover-registration pass' },
  ],
});

export type ReconcilerEnvironment = z.output<typeof environment>;
