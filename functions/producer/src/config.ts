import { parseEnvironment } from '@runners/shared';
import { producerContract, type ProducerEnvironment } from './contract';

export type { ProducerEnvironment };

/** The producer's environment (schema: its deployment contract), read here and nowhere else; every problem at once. */
export function readEnvironment(env: NodeJS.ProcessEnv = process.env): ProducerEnvironment {
  return parseEnvironment('producer environment', producerContract.environment, env);
}
