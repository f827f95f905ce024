import { parseEnvironment } from '@runners/shared';
import { z } from 'zod';

/** The runner Lambda's environment, read here and nowhere else. */
const environmentSchema = z.object({
  /** `/<stack prefix>`: the JIT parameters are under `<prefix>/lambda-runners/`. */
  PARAMETER_PREFIX: z.string().regex(/^\/[A-Za-z0-9_.-]+$/),
  /** Where the image installs the actions runner. */
  RUNNER_DIR: z.string().startsWith('/').default('/opt/actions-runner'),
  WORK_ROOT: z.string().startsWith('/').default('/tmp'),
});

export type RunnerLambdaEnvironment = z.output<typeof environmentSchema>;

export function readEnvironment(env: NodeJS.ProcessEnv = process.env): RunnerLambdaEnvironment {
  return parseEnvironment('runner Lambda environment', environmentSchema, env);
}
