import type { IamRole } from '@cdktf/provider-aws/lib/iam-role';

/** What a host kind adds to its orchestrator: the resources its contract part names, and what needs the role. */
export interface HostResources<Resources> {
  readonly resources: Resources;
  attachOrchestrator?(role: IamRole): void;
}
