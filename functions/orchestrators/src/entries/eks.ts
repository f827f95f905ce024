import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { countAwsCalls } from '@runners/shared/aws-calls';
import { kubernetesApi } from '../hosts/eks/eks-client';
import { EksHost } from '../hosts/eks/eks-host';
import { cachedEksToken } from '../hosts/eks/eks-token';
import { orchestratorHandler } from '../wiring';

/*
 * Lambda entry of the EKS orchestrator: the cluster's endpoint and CA once per cold start, then pods through the
 * Kubernetes API with the function role's IAM token (the stacks give the role an access entry on the cluster).
 */
export const handler = await orchestratorHandler('eks', async (environment, config) => {
  const clusterName = environment.EKS_CLUSTER_NAME;
  if (!clusterName) throw new Error('EKS_CLUSTER_NAME is not set: the EKS orchestrator needs the cluster its pods run on');
  const { cluster } = await countAwsCalls(new EKSClient({})).send(new DescribeClusterCommand({ name: clusterName }));
  if (!cluster?.endpoint) throw new Error(`EKS cluster ${clusterName} has no API endpoint yet (status ${cluster?.status})`);
  const token = cachedEksToken({ clusterName, region: environment.AWS_REGION, credentials: defaultProvider() });
  return new EksHost({
    api: kubernetesApi({ name: clusterName, endpoint: cluster.endpoint, certificateAuthority: cluster.certificateAuthority?.data }, token),
    managedBy: environment.STACK_PREFIX,
    namespaces: config.pools.flatMap((pool) => (pool.host === 'eks' ? [pool.eks.namespace] : [])),
  });
});
