import { parseEnvironment } from '@runners/shared';
import { notifierContract, type NotifierEnvironment } from './contract';

/** The notifier's environment (schema: its deployment contract), read here and nowhere else. */
export function readEnvironment(env: NodeJS.ProcessEnv = process.env): NotifierEnvironment {
  return parseEnvironment('notifier environment', notifierContract.environment, env);
}
