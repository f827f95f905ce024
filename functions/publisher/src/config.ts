import { parseEnvironment } from '@runners/shared';
import { publisherContract, type PublisherEnvironment } from './contract';

export type { PublisherEnvironment };

/** The publisher's environment (schema: its deployment contract), read here and nowhere else. */
export function readEnvironment(env: NodeJS.ProcessEnv = process.env): PublisherEnvironment {
  return parseEnvironment('publisher environment', publisherContract.environment, env);
}
