import { parseEnvironment } from '@runners/shared';
import { runnerLambdaContract, type RunnerLambdaEnvironment } from './contract';

export type { RunnerLambdaEnvironment };

/** The runner Lambda's environment (schema: its deployment contract), read here and nowhere else. */
export function readEnvironment(env: NodeJS.ProcessEnv = process.env): RunnerLambdaEnvironment {
  return parseEnvironment('runner Lambda environment', runnerLambdaContract.environment, env);
}
