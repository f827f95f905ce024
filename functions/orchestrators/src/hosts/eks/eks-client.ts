import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';

/*
 * A CoreV1Api for one cluster, authenticated with the current IAM token. The client takes a static token, so a new
 * one is made when the token changes (once a minute at most; building it is cheap, it opens no connection).
 */

export interface EksCluster {
  readonly name: string;
  /** The API server URL (DescribeCluster's endpoint). */
  readonly endpoint: string;
  /** Base64 PEM of the cluster CA (DescribeCluster's certificateAuthority.data); absent for a plain-HTTP test API. */
  readonly certificateAuthority?: string;
}

export function kubernetesApi(cluster: EksCluster, token: () => Promise<string>): () => Promise<CoreV1Api> {
  let current: { token: string; api: CoreV1Api } | undefined;
  return async () => {
    const fresh = await token();
    if (current?.token !== fresh) {
      const kubeConfig = new KubeConfig();
      kubeConfig.loadFromOptions({
        clusters: [{ name: cluster.name, server: cluster.endpoint, caData: cluster.certificateAuthority, skipTLSVerify: false }],
        users: [{ name: 'orchestrator', token: fresh }],
        contexts: [{ name: cluster.name, cluster: cluster.name, user: 'orchestrator' }],
        currentContext: cluster.name,
      });
      current = { token: fresh, api: kubeConfig.makeApiClient(CoreV1Api) };
    }
    return current.api;
  };
}
