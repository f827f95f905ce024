import { isRepositoryAllowed, type PoolsConfig } from '@runners/shared';
import { type GitHubClient } from '@runners/shared/github';

export interface InstalledRepository {
  readonly owner: string;
  readonly repo: string;
  readonly installationId: number;
}

/** Every repository of the App's installations that the allowlist admits (conditional requests: mostly 304s). */
export async function installedRepositories(
  github: Pick<GitHubClient, 'listInstallations' | 'listRepositories'>,
  config: Pick<PoolsConfig, 'repositories'>,
): Promise<InstalledRepository[]> {
  const all: InstalledRepository[] = [];
  for (const installation of await github.listInstallations()) {
    for (const r of await github.listRepositories(installation.id)) {
      if (isRepositoryAllowed(config, `${r.owner}/${r.repo}`)) all.push({ ...r, installationId: installation.id });
    }
  }
  return all;
}

/** The next `limit` of `all`, from `cursor.next` round the list; the cursor moves on. */
export function nextWindow<T>(all: readonly T[], limit: number, cursor?: { next: number }): T[] {
  const start = all.length > limit ? (cursor?.next ?? 0) % all.length : 0;
  const window = [...all.slice(start), ...all.slice(0, start)].slice(0, limit);
  if (cursor) cursor.next = start + window.length;
  return window;
}
