import { parseEnvironment } from '@runners/shared';
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
  return parseEnvironment('publisher environment', environmentSchema, env);
}
