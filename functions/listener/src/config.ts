import { parseEnvironment } from '@runners/shared';
import { listenerContract, type ListenerEnvironment } from './contract';

export type { ListenerEnvironment };

/** The listener's environment (schema: its deployment contract), read here and nowhere else. */
export function readEnvironment(env: NodeJS.ProcessEnv = process.env): ListenerEnvironment {
  return parseEnvironment('listener environment', listenerContract.environment, env);
}
