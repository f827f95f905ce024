import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { getParameter } from '@aws-lambda-powertools/parameters/ssm';
import type { ProducerEnvironment } from './config';

/**
 * The webhook secret, from an SSM SecureString or a Secrets Manager secret, through Powertools parameters: cached
 * for WEBHOOK_SECRET_MAX_AGE_SECONDS, so a warm producer makes no AWS call per webhook and a rotation still lands.
 */
export function webhookSecretSource(environment: ProducerEnvironment): () => Promise<string> {
  const maxAge = environment.WEBHOOK_SECRET_MAX_AGE_SECONDS;
  return async function webhookSecret() {
    const secret = environment.WEBHOOK_SECRET_PARAMETER
      ? await getParameter(environment.WEBHOOK_SECRET_PARAMETER, { decrypt: true, maxAge })
      : await getSecret(environment.WEBHOOK_SECRET_ARN!, { maxAge });
    if (typeof secret !== 'string' || secret === '') throw new Error('the webhook secret is empty or not a string');
    return secret;
  };
}
