import { parseEnvironment } from '@runners/shared';
import { z } from 'zod';

/** The reconciler's environment, read here and nowhere else. */
const environmentSchema = z.object({
  JOBS_TABLE_NAME: z.string().min(1),
  GITHUB_APP_ID_PARAMETER: z.string().startsWith('/'),
  GITHUB_PRIVATE_KEY_PARAMETER: z.string().startsWith('/'),
  GITHUB_API_URL: z.url().optional(),
  /** How far back each pass looks; passes run every 5 minutes, so an hour looks at each delivery a dozen times. */
  REDELIVERY_LOOKBACK_MINUTES: z.coerce.number().int().min(5).max(3 * 24 * 60).default(60),
  /** A delivery younger than this may still be in flight (GitHub waits 10 s for an answer). */
  REDELIVERY_SETTLE_SECONDS: z.coerce.number().int().min(0).max(3_600).default(60),
  MAX_REDELIVERIES_PER_PASS: z.coerce.number().int().min(1).max(1_000).default(200),
  /** A job queued on GitHub this long with no record of ours is recorded from the API (its webhook is lost). */
  LOST_JOB_SETTLE_SECONDS: z.coerce.number().int().min(0).max(24 * 3_600).default(120),
  MAX_REPOSITORIES_PER_PASS: z.coerce.number().int().min(1).max(10_000).default(100),
  MAX_RUNS_PER_REPOSITORY: z.coerce.number().int().min(1).max(1_000).default(20),
  /** An offline registration whose record changed more recently than this is left alone (it may be mid-launch). */
  REGISTRATION_GRACE_SECONDS: z.coerce.number().int().min(0).max(3_600).default(120),
});

export type ReconcilerEnvironment = z.output<typeof environmentSchema>;

export function readEnvironment(env: NodeJS.ProcessEnv = process.env): ReconcilerEnvironment {
  return parseEnvironment('reconciler environment', environmentSchema, env);
}
