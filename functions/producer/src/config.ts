import { parseEnvironment } from '@runners/shared';
import { z } from 'zod';

/** The producer's environment, read here and nowhere else; every problem reported at once, at cold start. */
const environmentSchema = z
  .object({
    JOBS_TABLE_NAME: z.string().min(1),
    /** SSM SecureString holding the webhook secret … */
    WEBHOOK_SECRET_PARAMETER: z.string().startsWith('/').optional(),
    /** … or a Secrets Manager secret (name or ARN). Exactly one of the two. */
    WEBHOOK_SECRET_ARN: z.string().min(1).optional(),
    /** Bodies over this are refused with 413 before they are parsed. GitHub caps payloads at 25 MB. */
    WEBHOOK_MAX_BODY_BYTES: z.coerce.number().int().min(1_024).max(6 * 1024 * 1024).default(1024 * 1024),
    /** How long a fetched secret is trusted before it is read again (rotation takes effect within this). */
    WEBHOOK_SECRET_MAX_AGE_SECONDS: z.coerce.number().int().min(0).max(3_600).default(300),
  })
  .refine((env) => (env.WEBHOOK_SECRET_PARAMETER === undefined) !== (env.WEBHOOK_SECRET_ARN === undefined), {
    path: ['WEBHOOK_SECRET_PARAMETER'],
    message: 'set exactly one of WEBHOOK_SECRET_PARAMETER (SSM) and WEBHOOK_SECRET_ARN (Secrets Manager)',
  });

export type ProducerEnvironment = z.output<typeof environmentSchema>;

export function readEnvironment(env: NodeJS.ProcessEnv = process.env): ProducerEnvironment {
  return parseEnvironment('producer environment', environmentSchema, env);
}
