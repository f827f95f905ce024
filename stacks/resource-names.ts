/** Names of the resources, shared by the stacks and the local stack so that both address the same things. */
export function resourceNames(prefix: string) {
  return {
    jobsTable: `${prefix}-jobs`,
    webhookSecretParameter: `/${prefix}/github/webhook-secret`,
    function: (name: string) => `${prefix}-${name}`,
  };
}

export const DEFAULT_PREFIX = 'ephemeral-runners';
