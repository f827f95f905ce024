import { HOST_RULES_EVERY_MINUTES } from '@runners/shared/deployment';

/** Names of the resources, shared by the stacks and the local stack so that both address the same things. */
export function resourceNames(prefix: string) {
  return {
    jobsTable: `${prefix}-jobs`,
    webhookSecretParameter: `/${prefix}/github/webhook-secret`,
    githubAppIdParameter: `/${prefix}/github/app-id`,
    githubPrivateKeyParameter: `/${prefix}/github/private-key`,
    /** Another GitHub App's id and key (pools.githubApp; the default App's are the two above). */
    otherGithubAppParameters: (app: string) => ({ appId: `/${prefix}/github/apps/${app}/app-id`, privateKey: `/${prefix}/github/apps/${app}/private-key` }),
    /** The KMS key the secrets are encrypted with (alias name, without `alias/`). */
    secretsKeyAlias: `${prefix}-secrets`,
    /** The KMS key the SNS topics are encrypted with. */
    messagesKeyAlias: `${prefix}-messages`,
    function: (name: string) => `${prefix}-${name}`,
    /** Messenger (and publisher) → publisher. */
    publisherTopic: `${prefix}-publisher`,
    /** Publisher → every pool's queue, filtered by the `pool` message attribute. */
    jobsTopic: `${prefix}-jobs`,
    poolQueue: (pool: string) => `${prefix}-pool-${pool}`,
    poolDeadLetterQueue: (pool: string) => `${prefix}-pool-${pool}-dlq`,
    /** Local stack only: SNS → publisher goes through this queue, polled by the emulated event source. */
    publisherInbox: `${prefix}-publisher-inbox`,
  };
}

export const DEFAULT_PREFIX = 'ephemeral-runners';

/** The host rules of each orchestrator (leaked hosts, stuck launches), on AWS and in the local stack. */
export const HOST_RULES_EVERY_MS = HOST_RULES_EVERY_MINUTES * 60_000;
