import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { getParameter } from '@aws-lambda-powertools/parameters/ssm';
import type { ProducerEnvironment } from './config';

/**
 * The webhook secret, from an SSM SecureString or a Secrets Manager secret, through Powertools parameters: cached
 * for WEBHOOK_SECRET_MAX_AGE_SECONDS, so a warm producer makes no AWS call per webhook and a rotation still lands.
 *
 * Until the real secret is in place — the parameter missing, empty, or still a placeholder this repository ever
 * wrote — it refuses to verify anything (a signature made with a published placeholder proves nothing): the
 * producer answers 503, so GitHub records a failed delivery the reconciler redelivers once the secret is set. Such a
 * value is not trusted from the cache: the next webhook reads again, so setting the secret needs no restart.
 */

/** Values this repository has used as placeholders (stacks/secrets.ts before secrets left Terraform). */
export const WEBHOOK_SECRET_PLACEHOLDERS: ReadonlySet<string> = new Set(['set-by-make-ci-deploy']);

export type WebhookSecretProblem = 'missing' | 'empty' | 'placeholder';

export class WebhookSecretNotConfiguredError extends Error {
  constructor(
    readonly problem: WebhookSecretProblem,
    options?: ErrorOptions,
  ) {
    super(
      `the webhook secret is ${problem === 'missing' ? 'not set' : problem === 'empty' ? 'empty' : 'still a placeholder'}: run "make ci-deploy" (scripts/put-secrets.sh)`,
      options,
    );
    this.name = 'WebhookSecretNotConfiguredError';
  }
}

const notFound = (error: unknown): boolean => {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if (e.name === 'ParameterNotFound' || e.name === 'ResourceNotFoundException' || /ParameterNotFound|ResourceNotFoundException/.test(e.message)) return true;
  }
  return false;
};

export function webhookSecretSource(environment: ProducerEnvironment): () => Promise<string> {
  const maxAge = environment.WEBHOOK_SECRET_MAX_AGE_SECONDS;
  let unconfirmed = false;
  return async function webhookSecret() {
    let secret: unknown;
    try {
      secret = environment.WEBHOOK_SECRET_PARAMETER
        ? await getParameter(environment.WEBHOOK_SECRET_PARAMETER, { decrypt: true, maxAge, forceFetch: unconfirmed })
        : await getSecret(environment.WEBHOOK_SECRET_ARN!, { maxAge, forceFetch: unconfirmed });
    } catch (error) {
      if (notFound(error)) {
        unconfirmed = true;
        throw new WebhookSecretNotConfiguredError('missing', { cause: error });
      }
      throw error;
    }
    unconfirmed = typeof secret !== 'string' || secret.trim() === '' || WEBHOOK_SECRET_PLACEHOLDERS.has(secret);
    if (typeof secret !== 'string' || secret.trim() === '') throw new WebhookSecretNotConfiguredError('empty');
    if (WEBHOOK_SECRET_PLACEHOLDERS.has(secret)) throw new WebhookSecretNotConfiguredError('placeholder');
    return secret;
  };
}
