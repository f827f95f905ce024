import type { components } from '@octokit/openapi-types';

/* What the control plane knows of GitHub's objects (REST response types) and where runners register. */

export type Runner = components['schemas']['runner'];
export type WorkflowJob = components['schemas']['job'];
export type HookDelivery = components['schemas']['hook-delivery-item'];
export type WorkflowRun = components['schemas']['workflow-run'];

/** A check run's state and words: in progress, or completed with a conclusion. */
export type CheckRunInput = { readonly title: string; readonly summary: string } & (
  { readonly status: 'in_progress' } | { readonly status: 'completed'; readonly conclusion: 'action_required' | 'success' | 'neutral' }
);

export type RunnerScope = { readonly kind: 'org'; readonly org: string } | { readonly kind: 'repo'; readonly owner: string; readonly repo: string };

/** Where a job's runners register: with its organization (org scope) or its repository (repo scope). */
export function runnerScopeOf(scope: 'org' | 'repo', owner: string, repo: string): RunnerScope {
  return scope === 'org' ? { kind: 'org', org: owner } : { kind: 'repo', owner, repo };
}
