import type { Pool } from './pools-config';

/*
 * Label routing, the way GitHub assigns jobs: a runner can take a job when every job label is among the runner's
 * labels (case-insensitive). A runner of a pool carries the pool's labels plus the defaults GitHub adds to every
 * self-hosted runner. Ties: higher priority, then fewest extra labels (the tightest fit), then config order.
 */

const OS_LABEL = { linux: 'linux', windows: 'windows', macos: 'macos' } as const;
const ARCH_LABEL = { x64: 'x64', arm64: 'arm64' } as const;

/** The labels GitHub gives every self-hosted runner of this pool, besides the pool's own. */
export function defaultRunnerLabels(pool: Pick<Pool, 'os' | 'arch'>): string[] {
  return ['self-hosted', OS_LABEL[pool.os], ARCH_LABEL[pool.arch]];
}

/**
 * `forGitHubHosted`: a job no pool can run that names a GitHub-hosted runner image (`ubuntu-latest`, `windows-2022`,
 * `macos-15`, …; docs.github.com, "GitHub-hosted runners") and not `self-hosted`: not ours, and no cause for alarm —
 * the App sees every job of the repositories it is installed on.
 */
export type Route = { readonly kind: 'pool'; readonly pool: Pool } | { readonly kind: 'unroutable'; readonly reason: string; readonly forGitHubHosted?: true };

const GITHUB_HOSTED_LABEL = /^(ubuntu|windows|macos)-/;

export interface Router {
  route(jobLabels: readonly string[]): Route;
}

/** Build once per cold start: pre-lowered label sets make each route O(pools × labels). */
export function createRouter(pools: readonly Pool[]): Router {
  const candidates = pools.map((pool, order) => ({
    pool,
    order,
    // A scale set's name is one of its labels (pools-config.ts, scaleSetLabelsOf).
    labels: new Set(
      [...defaultRunnerLabels(pool), ...pool.labels, ...(pool.intake === 'scaleset' ? [pool.scaleSet?.name ?? pool.name] : [])].map((l) => l.toLowerCase()),
    ),
  }));

  return {
    route(jobLabels) {
      const wanted = new Set(jobLabels.map((l) => l.trim().toLowerCase()).filter((l) => l !== ''));
      // An empty label set would match every pool; GitHub never sends one for a self-hosted job.
      if (wanted.size === 0) return { kind: 'unroutable', reason: 'job has no labels' };
      const matches = candidates.filter((c) => [...wanted].every((l) => c.labels.has(l)));
      if (matches.length === 0) {
        if (!wanted.has('self-hosted') && [...wanted].some((l) => GITHUB_HOSTED_LABEL.test(l)))
          return { kind: 'unroutable', reason: 'a job for GitHub-hosted runners', forGitHubHosted: true };
        return { kind: 'unroutable', reason: 'no pool has every label of the job' };
      }
      matches.sort((a, b) => b.pool.priority - a.pool.priority || a.labels.size - b.labels.size || a.order - b.order);
      return { kind: 'pool', pool: matches[0]!.pool };
    },
  };
}
