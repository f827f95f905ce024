import type { z } from 'zod';
import { ConfigError } from './errors';
import { toIssues } from './zod-issues';

/** Parses a function's environment with its schema; throws a ConfigError naming every bad variable at once. */
export function parseEnvironment<S extends z.ZodType>(source: string, schema: S, env: NodeJS.ProcessEnv): z.output<S> {
  const result = schema.safeParse(env);
  if (!result.success) throw new ConfigError(source, toIssues(result.error));
  return result.data;
}

/** The X-Ray trace header Lambda sets for the current invocation, to carry onto the messages a function sends. */
export function currentTraceHeader(): string | undefined {
  return process.env._X_AMZN_TRACE_ID || undefined;
}
