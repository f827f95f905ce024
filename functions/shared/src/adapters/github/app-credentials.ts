import { getParametersByName } from '@aws-lambda-powertools/parameters/ssm';
import { ConfigError } from '../../errors';
import type { GitHubAppCredentials } from './github-client';

/**
 * The GitHub App's id and private key, from SSM SecureStrings, through Powertools parameters:
 * fetched in one call, decrypted, cached for `maxAgeSeconds` per execution environment.
 */
export async function loadGitHubAppCredentials(source: {
  readonly appIdParameter: string;
  readonly privateKeyParameter: string;
  readonly baseUrl: string;
  readonly maxAgeSeconds?: number;
}): Promise<GitHubAppCredentials> {
  const values = await getParametersByName(
    // Both are SecureStrings (scripts/put-secrets.sh writes them so): read undecrypted, the id would be ciphertext.
    { [source.appIdParameter]: { decrypt: true }, [source.privateKeyParameter]: { decrypt: true } },
    { maxAge: source.maxAgeSeconds ?? 300, throwOnError: false },
  );
  const issues = [];
  const appId = Number(values[source.appIdParameter]);
  if (!Number.isSafeInteger(appId) || appId <= 0) issues.push({ path: source.appIdParameter, message: 'expected the GitHub App id (a positive integer)' });
  const privateKey = String(values[source.privateKeyParameter] ?? '');
  if (!/-----BEGIN (RSA )?PRIVATE KEY-----/.test(privateKey))
    issues.push({ path: source.privateKeyParameter, message: 'expected the GitHub App private key (PEM)' });
  if (issues.length > 0) throw new ConfigError('GitHub App credentials', issues);
  return { appId, privateKey, baseUrl: source.baseUrl };
}
