import type { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import type { PolicyStatement } from '../traced-function';

/** What a host kind adds to its orchestrator: environment, statements, and resources that need the orchestrator's role. */
export interface HostResources {
  readonly environment: Record<string, string>;
  readonly statements: readonly PolicyStatement[];
  attachOrchestrator?(role: IamRole): void;
}
