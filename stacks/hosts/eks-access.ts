import { EksAccessEntry } from '@cdktf/provider-aws/lib/eks-access-entry';
import { EksAccessPolicyAssociation } from '@cdktf/provider-aws/lib/eks-access-policy-association';
import type { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import type { Pool } from '@runners/shared';
import { Construct } from 'constructs';
import type { Account } from '../account';
import type { EksHostResources } from '@runners/orchestrators/contract';
import type { HostResources } from './host-resources';

/*
 * EKS pools run on a cluster you already have (EKS_CLUSTER_NAME): the orchestrator's role gets an access entry with
 * the edit policy, scoped to the pools' namespaces — pods and secrets there, nothing cluster-wide. Creating the
 * namespaces (and node groups or Karpenter) stays with whoever runs the cluster.
 */

export interface EksAccessProps {
  readonly account: Account;
  readonly clusterName: string;
  readonly pools: readonly Extract<Pool, { host: 'eks' }>[];
}

export class EksAccess extends Construct implements HostResources<EksHostResources> {
  readonly resources: EksHostResources;

  constructor(
    scope: Construct,
    id: string,
    private readonly props: EksAccessProps,
  ) {
    super(scope, id);
    this.resources = { cluster: { name: props.clusterName, arn: props.account.arn('eks', `cluster/${props.clusterName}`) } };
  }

  attachOrchestrator(role: IamRole): void {
    const entry = new EksAccessEntry(this, 'orchestrator-entry', { clusterName: this.props.clusterName, principalArn: role.arn, type: 'STANDARD' });
    new EksAccessPolicyAssociation(this, 'orchestrator-edit', {
      clusterName: this.props.clusterName,
      principalArn: role.arn,
      policyArn: `arn:${this.props.account.partition}:eks::aws:cluster-access-policy/AmazonEKSEditPolicy`,
      accessScope: { type: 'namespace', namespaces: [...new Set(this.props.pools.map((p) => p.eks.namespace))] },
      dependsOn: [entry],
    });
  }
}
