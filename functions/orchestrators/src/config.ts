import { parseEnvironment } from '@runners/shared';
import { orchestratorContracts, type OrchestratorEnvironment } from './contract';

export type { OrchestratorEnvironment };

/** An orchestrator's environment (schema: its deployment contract, the same for every host kind), read here only. */
export function readEnvironment(env: NodeJS.ProcessEnv = process.env): OrchestratorEnvironment {
  return parseEnvironment('orchestrator environment', orchestratorContracts.docker.environment, env);
}
