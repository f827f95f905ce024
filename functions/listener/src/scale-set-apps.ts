import type { Pool, PoolsConfig } from '@runners/shared';
import { clientOfPool, type GitHubClient } from '@runners/shared/github';
import { ScaleSets, type ActionsServiceOptions } from '@runners/shared/scaleset';
import type { ScaleSetApp } from './listen';

/** Each App's scale sets (one connection cache per App), and its installation of a scale set's scope. */
export function scaleSetApps(
  config: Pick<PoolsConfig, 'pools'>,
  github: GitHubClient,
  githubApps: ReadonlyMap<string, GitHubClient>,
  options: Omit<ActionsServiceOptions, 'connect'>,
): (pool: Pool) => ScaleSetApp {
  const apps = new Map<GitHubClient, ScaleSetApp>();
  return (pool) => {
    const { client } = clientOfPool(config, pool.name, github, githubApps);
    let app = apps.get(client);
    if (!app) {
      app = { scaleSets: new ScaleSets(client, options), installation: (target) => client.installationId(target.scope) };
      apps.set(client, app);
    }
    return app;
  };
}
