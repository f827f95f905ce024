import {
  defineContract,
  githubAppPermissions,
  otherGitHubAppsEnvironment,
  otherGitHubAppsPermissions,
  otherGitHubAppsVariable,
  type ExtraGitHubApp,
  type GitHubAppResources,
  type TableResource,
} from '@runners/shared/deployment';
import * as z from 'zod';

/** The listener's deployment contract: the intake of the pools that take their jobs from GitHub runner scale sets. */

export interface ListenerResources {
  readonly region: string;
  readonly deploymentId: string;
  readonly jobsTable: TableResource;
  readonly githubApp: GitHubAppResources;
  /** The other GitHub Apps the scale-set pools register their runners with (pools.githubApp). */
  readonly githubApps?: readonly ExtraGitHubApp[];
}

/**
 * Lambda's longest run: a listener long-polls for nearly all of it, and hands over to the next scheduled invocation
 * (every minute) at its end. Its lease outlives no run: a listener that dies is replaced within the lease.
 */
export const LISTENER_TIMEOUT_SECONDS = 900;

const environment = z.object({
  JOBS_TABLE_NAME: z.string().min(1),
  GITHUB_APP_ID_PARAMETER: z.string().startsWith('/'),
  GITHUB_PRIVATE_KEY_PARAMETER: z.string().startsWith('/'),
  GITHUB_APPS: otherGitHubAppsVariable,
  GITHUB_API_URL: z.url().optional(),
  DEPLOYMENT_ID: z.string().min(1),
  /** Listen at most this long per invocation (default: until shortly before the timeout). */
  LISTEN_SECONDS: z.coerce.number().int().min(10).max(LISTENER_TIMEOUT_SECONDS).optional(),
  /** A dead listener is replaced within this (its lease runs out). */
  LEASE_SECONDS: z.coerce.number().int().min(5).max(300).default(30),
  /** A withdrawn assignment GitHub does not follow with a new one within this is a cancelled job. */
  WITHDRAWN_GRACE_SECONDS: z.coerce.number().int().min(10).max(3_600).default(300),
  /** How long GitHub's Actions service may take to answer a retried request, first back-off (ms). */
  SCALE_SET_RETRY_BASE_MS: z.coerce.number().int().min(1).max(10_000).default(1_000),
});

export const listenerContract = defineContract({
  function: 'listener',
  description: 'scale-set intake: one message session per scale set, job messages into the job state machine',
  environment,
  environmentFor: (r: ListenerResources) => ({
    JOBS_TABLE_NAME: r.jobsTable.name,
    GITHUB_APP_ID_PARAMETER: r.githubApp.appId.name,
    GITHUB_PRIVATE_KEY_PARAMETER: r.githubApp.privateKey.name,
    ...otherGitHubAppsEnvironment(r.githubApps),
    DEPLOYMENT_ID: r.deploymentId,
  }),
  permissions: (r: ListenerResources) => [
    {
      sid: 'JobWrites',
      actions: ['dynamodb:UpdateItem', 'dynamodb:GetItem'],
      resources: [r.jobsTable.arn],
      why: 'one conditional write per job message (the producer’s intake); the pool’s lease (taken, renewed, handed over; read when held)',
    },
    ...githubAppPermissions(r.githubApp, r.region),
    ...otherGitHubAppsPermissions(r.githubApps, 'the scale-set pools register their runners with'),
  ],
  timeoutSeconds: LISTENER_TIMEOUT_SECONDS,
  eventSources: [{ kind: 'schedule', name: 'listen', everyMinutes: 1, description: 'takes over the scale-set pools whose listener handed over or died' }],
});

export type ListenerEnvironment = z.output<typeof environment>;
