import { describe, expect, it } from '@jest/globals';
import { installedRepositories, REPOSITORIES_TTL_MS, type RepositoriesCache } from '@runners/reconciler';

/* The reconciler's passes list the App's installations and repositories at most every REPOSITORIES_TTL_MS. */

describe('installed repositories', () => {
  const github = () => {
    const calls = { installations: 0, repositories: 0 };
    return {
      calls,
      listInstallations: async () => (calls.installations++, [{ id: 7, account: 'octo-org', organization: true }]),
      listRepositories: async () => (
        calls.repositories++,
        [
          { owner: 'octo-org', repo: 'app' },
          { owner: 'octo-org', repo: 'other' },
        ]
      ),
    };
  };

  it('lists once per TTL with a cache, every time without one, and applies the allowlist', async () => {
    const cached = github();
    const cache: RepositoriesCache = {};
    const config = { repositories: ['octo-org/app'] };

    const first = await installedRepositories(cached, config, cache, 0);
    await installedRepositories(cached, config, cache, REPOSITORIES_TTL_MS - 1);
    expect(cached.calls).toEqual({ installations: 1, repositories: 1 });
    await installedRepositories(cached, config, cache, REPOSITORIES_TTL_MS);
    expect(cached.calls).toEqual({ installations: 2, repositories: 2 });
    expect(first).toEqual([{ owner: 'octo-org', repo: 'app', installationId: 7 }]);

    const uncached = github();
    await installedRepositories(uncached, config);
    await installedRepositories(uncached, config);
    expect(uncached.calls).toEqual({ installations: 2, repositories: 2 });
  });
});
