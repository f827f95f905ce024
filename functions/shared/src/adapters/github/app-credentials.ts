import { getParametersByName } from '@aws-lambda-powertools/parameters/ssm';
import { ConfigError } from '../../errors';
import { DEFAULT_GITHUB_APP, type PoolsConfig } from '../../pools/pools-config';
import { GitHubClient, type GitHubAppCredentials, type GitHubClientOptions } from './github-client';

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

/**
 * The App that sends the webhooks ("default") and the others a function's pools use (`GITHUB_APPS`), each a client
 * with its credentials from SSM: once per cold start.
 */
export async function loadGitHubApps(source: {
  readonly appIdParameter: string;
  readonly privateKeyParameter: string;
  readonly otherApps: Readonly<Record<string, { readonly appIdParameter: string; readonly privateKeyParameter: string }>>;
  readonly baseUrl: string;
  readonly clientOptions: GitHubClientOptions;
}): Promise<{ github: GitHubClient; githubApps: Map<string, GitHubClient> }> {
  const clientOf = async (appIdParameter: string, privateKeyParameter: string) =>
    new GitHubClient(await loadGitHubAppCredentials({ appIdParameter, privateKeyParameter, baseUrl: source.baseUrl }), source.clientOptions);
  const github = await clientOf(source.appIdParameter, source.privateKeyParameter);
  const githubApps = new Map(
    await Promise.all(
      Object.entries(source.otherApps).map(async ([name, app]) => [name, await clientOf(app.appIdParameter, app.privateKeyParameter)] as const),
    ),
  );
  return { github, githubApps };
}

/** The client of the App that registers `pool`'s runners (pools.githubApp): the default one, or another by name. */
export function clientOfPool<C>(
  config: Pick<PoolsConfig, 'pools'>,
  pool: string | undefined,
  github: C,
  githubApps: ReadonlyMap<string, C> | undefined,
): { client: C; isDefault: boolean } {
  const name = config.pools.find((p) => p.name === pool)?.githubApp ?? DEFAULT_GITHUB_APP;
  if (name === DEFAULT_GITHUB_APP) return { client: github, isDefault: true };
  const other = githubApps?.get(name);
  if (!other) throw new Error(`no client for GitHub App "${name}" of pool ${pool}: GITHUB_APPS lacks it`);
  return { client: other, isDefault: false };
}
