import type { Permission } from '@runners/shared/deployment';

/** What the EKS host adds to its orchestrator's deployment (pods and secrets come from the cluster's access entry). */

export interface EksHostResources {
  readonly cluster: { readonly name: string; readonly arn: string };
}

export const eksHostEnvironment = (r: EksHostResources) => ({ EKS_CLUSTER_NAME: r.cluster.name });

export const eksHostPermissions = (r: EksHostResources): Permission[] => [
  { sid: 'FindCluster', actions: ['eks:DescribeCluster'], resources: [r.cluster.arn], why: "the cluster's endpoint and CA (once per cold start)" },
];
