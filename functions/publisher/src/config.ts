import { ConfigError, toIssues } from '@runners/shared';
import { z } from 'zod';

/** The publisher's environment, read here and nowhere else. */
const environmentSchema = z.object({
  JOBS_TABLE_NAME: z.string().min(1),
  JOBS_TOPIC_ARN: z.string().startsWith('arn:'),
  PUBLISHER_TOPIC_ARN: z.string().startsWith('arn:'),
  LAUNCHES_PER_ROUND: z.coerce.number().int().min(1).max(1_000).default(100),
  QUEUE_WINDOW: z.coerce.number().int().min(10).max(10_000).default(1_000),
});

export type PublisherEnvironment = z.output<typeof environmentSchema>;

export function readEnvironment(env: NodeJS.ProcessEnv = process.env): PublisherEnvironment {
  const result = environmentSchema.safeParse(env);
  if (!result.success) throw new ConfigError('publisher environment', toIssues(result.error));
  return result.data;
}

/** The X-Ray trace header of the current invocation (set by Lambda per invocation), to carry onto messages. */
export function currentTraceHeader(): string | undefined {
  return process.env._X_AMZN_TRACE_ID || undefined;
}
