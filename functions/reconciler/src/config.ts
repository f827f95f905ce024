import { parseEnvironment } from '@runners/shared';
import { reconcilerContract, type ReconcilerEnvironment } from './contract';

export type { ReconcilerEnvironment };

/** The reconciler's environment (schema: its deployment contract), read here and nowhere else. */
export function readEnvironment(env: NodeJS.ProcessEnv = process.env): ReconcilerEnvironment {
  return parseEnvironment('reconciler environment', reconcilerContract.environment, env);
}
