import { isRepositoryAllowed, type PoolsConfig } from '@runners/shared';
import { type GitHubClient } from '@runners/shared/github';

export interface InstalledRepository {
  readonly owner: string;
  readonly repo: string;
  readonly installationId: number;
}

/**
 * What the last listing found, kept while the execution environment lives: an App is installed on a new repository
 * rarely, so the passes list the installations and their repositories at most every `REPOSITORIES_TTL_MS`.
 */
export interface RepositoriesCache {
  at?: number;
  value?: InstalledRepository[];
  installations?: { at: number; value: Installation[] };
}

type Installation = Awaited<ReturnType<GitHubClient['listInstallations']>>[number];

/** The App's installations, listed at most every `REPOSITORIES_TTL_MS` when a cache is given. */
export async function appInstallations(github: Pick<GitHubClient, 'listInstallations'>, cache?: RepositoriesCache, now = Date.now()): Promise<Installation[]> {
  if (cache?.installations && now - cache.installations.at < REPOSITORIES_TTL_MS) return cache.installations.value;
  const value = await github.listInstallations();
  if (cache) cache.installations = { at: now, value };
  return value;
}

export const REPOSITORIES_TTL_MS = 10 * 60_000;

/** Every repository of the App's installations that the allowlist admits (conditional requests: mostly 304s). */
export async function installedRepositories(
  github: Pick<GitHubClient, 'listInstallations' | 'listRepositories'>,
  config: Pick<PoolsConfig, 'repositories'>,
  cache?: RepositoriesCache,
  now = Date.now(),
): Promise<InstalledRepository[]> {
  if (cache?.value && cache.at !== undefined && now - cache.at < REPOSITORIES_TTL_MS) return cache.value;
  const all: InstalledRepository[] = [];
  for (const installation of await appInstallations(github, cache, now)) {
    for (const r of await github.listRepositories(installation.id)) {
      if (isRepositoryAllowed(config, `${r.owner}/${r.repo}`)) all.push({ ...r, installationId: installation.id });
    }
  }
  if (cache) Object.assign(cache, { at: now, value: all });
  return all;
}

/** The next `limit` of `all`, from `cursor.next` round the list; the cursor moves on. */
export function nextWindow<T>(all: readonly T[], limit: number, cursor?: { next: number }): T[] {
  const start = all.length > limit ? (cursor?.next ?? 0) % all.length : 0;
  const window = [...all.slice(start), ...all.slice(0, start)].slice(0, limit);
  if (cursor) cursor.next = start + window.length;
  return window;
}
