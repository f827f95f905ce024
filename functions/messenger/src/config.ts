import { parseEnvironment } from '@runners/shared';
import { messengerContract, type MessengerEnvironment } from './contract';

/** The messenger's environment (schema: its deployment contract), read here and nowhere else. */
export function readEnvironment(env: NodeJS.ProcessEnv = process.env): MessengerEnvironment {
  return parseEnvironment('messenger environment', messengerContract.environment, env);
}
