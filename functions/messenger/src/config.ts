import { ConfigError, toIssues } from '@runners/shared';
import { z } from 'zod';

/** The messenger's environment, read here and nowhere else. */
const environmentSchema = z.object({
  PUBLISHER_TOPIC_ARN: z.string().startsWith('arn:'),
});

export function readEnvironment(env: NodeJS.ProcessEnv = process.env): z.output<typeof environmentSchema> {
  const result = environmentSchema.safeParse(env);
  if (!result.success) throw new ConfigError('messenger environment', toIssues(result.error));
  return result.data;
}

/** The X-Ray trace header of the current invocation, to carry onto the notification. */
export function currentTraceHeader(): string | undefined {
  return process.env._X_AMZN_TRACE_ID || undefined;
}
