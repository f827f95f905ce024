import {
  defineContract,
  readStream,
  githubAppPermissions,
  type GitHubAppResources,
  type QueueResource,
  type StreamTableResource,
} from '@runners/shared/deployment';
import { JOBS_TABLE } from '@runners/shared';
import * as z from 'zod';

/** The notifier's deployment contract: Jobs table stream (and a tick) → check runs on the commits of jobs in trouble. */

export interface NotifierResources {
  readonly region: string;
  readonly jobsTable: StreamTableResource;
  readonly githubApp: GitHubAppResources;
  /** Stream batches that failed every retry (the event source mapping's on-failure destination). */
  readonly deadLetterQueue: QueueResource;
}

const environment = z.object({
  JOBS_TABLE_NAME: z.string().min(1),
  GITHUB_APP_ID_PARAMETER: z.string().startsWith('/'),
  GITHUB_PRIVATE_KEY_PARAMETER: z.string().startsWith('/'),
  GITHUB_API_URL: z.url().optional(),
  /** Long waiters noticed per pool and tick, oldest first (the rest on the next ticks). */
  MAX_WAITING_NOTICES_PER_POOL: z.coerce.number().int().min(1).max(500).default(25),
});

const { queuedByPool, slotsByPool } = JOBS_TABLE.indexes;

export const notifierContract = defineContract({
  function: 'notifier',
  description: 'check runs that say why a job waits (no pool, not allowed, launch given up, long wait), updated when it gets a runner',
  environment,
  environmentFor: (r: NotifierResources) => ({
    JOBS_TABLE_NAME: r.jobsTable.name,
    GITHUB_APP_ID_PARAMETER: r.githubApp.appId.name,
    GITHUB_PRIVATE_KEY_PARAMETER: r.githubApp.privateKey.name,
  }),
  permissions: (r: NotifierResources) => [
    readStream(r.jobsTable),
    {
      sid: 'Notices',
      actions: ['dynamodb:UpdateItem'],
      resources: [r.jobsTable.arn],
      why: 'claims a notice (or its resolution) with a conditional write, then records the check run',
    },
    {
      sid: 'LongWaits',
      actions: ['dynamodb:Query'],
      resources: [`${r.jobsTable.arn}/index/${queuedByPool.name}`, `${r.jobsTable.arn}/index/${slotsByPool.name}`],
      why: 'each tick, per pool, the jobs queued longer than notices.waitingMinutes; the slots in flight when there are any',
    },
    { sid: 'FailedBatches', actions: ['sqs:SendMessage'], resources: [r.deadLetterQueue.arn], why: 'the mapping sends batches that failed every retry' },
    ...githubAppPermissions(r.githubApp, r.region),
  ],
  timeoutSeconds: 60,
  eventSources: [
    { kind: 'dynamodb-stream', batchSize: 100, maximumBatchingWindowSeconds: 1, maximumRetryAttempts: 10 },
    { kind: 'schedule', name: 'waiting', everyMinutes: 1, description: 'jobs waiting longer than notices.waitingMinutes' },
  ],
});

export type NotifierEnvironment = z.output<typeof environment>;
