import { parseEnvironment } from '@runners/shared';
import { z } from 'zod';

/** The messenger's environment, read here and nowhere else. */
const environmentSchema = z.object({
  PUBLISHER_TOPIC_ARN: z.string().startsWith('arn:'),
});

export function readEnvironment(env: NodeJS.ProcessEnv = process.env): z.output<typeof environmentSchema> {
  return parseEnvironment('messenger environment', environmentSchema, env);
}
