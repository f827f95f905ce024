import { createHash } from 'node:crypto';
import * as z from 'zod';
import { error, type Reply, type Request, type Router } from './http';

/*
 * GitHub's check runs, as far as the control plane uses them (docs.github.com, "REST API endpoints for check runs"):
 * create on a commit, update, get, list for a ref. GitHub's rules, refused as GitHub refuses them:
 * - only a GitHub App with the Checks: write permission may create or update (403 "Resource not accessible by
 *   integration" otherwise);
 * - `name` and `head_sha` are required, and the commit must exist in the repository (422 "No commit found for SHA");
 * - `status` is queued | in_progress | completed (`waiting`, `requested`, `pending` are GitHub Actions' own);
 *   `completed` or `completed_at` needs a `conclusion`; giving a `conclusion` sets the status to completed;
 * - `output` needs `title` and `summary`; `summary` and `text` are at most 65,535 characters.
 */

const STATUSES = ['queued', 'in_progress', 'completed'] as const;
const CONCLUSIONS = ['action_required', 'cancelled', 'failure', 'neutral', 'success', 'skipped', 'stale', 'timed_out'] as const;
export const MAX_OUTPUT_CHARACTERS = 65_535;

const output = z.object({
  title: z.string().min(1),
  summary: z.string().min(1).max(MAX_OUTPUT_CHARACTERS),
  text: z.string().max(MAX_OUTPUT_CHARACTERS).optional(),
});
const isoTime = z.string().refine((v) => !Number.isNaN(Date.parse(v)), 'expected an ISO 8601 time');
const fields = {
  details_url: z.url().optional(),
  external_id: z.string().optional(),
  status: z.enum(STATUSES).optional(),
  started_at: isoTime.optional(),
  conclusion: z.enum(CONCLUSIONS).optional(),
  completed_at: isoTime.optional(),
  output: output.optional(),
};
const createBody = z.object({ name: z.string().min(1), head_sha: z.string().regex(/^[0-9a-f]{40}$/, 'expected a commit SHA'), ...fields });
const updateBody = z.object({ name: z.string().min(1).optional(), ...fields });

export interface SimCheckRun {
  readonly id: number;
  readonly owner: string;
  readonly repo: string;
  readonly headSha: string;
  name: string;
  status: (typeof STATUSES)[number];
  conclusion: (typeof CONCLUSIONS)[number] | null;
  output: z.output<typeof output> | null;
  externalId: string | null;
  startedAt: string;
  completedAt: string | null;
  /** Every state it was given, in order (create, then each update). */
  readonly history: { readonly status: string; readonly conclusion: string | null; readonly title?: string }[];
}

/** The commit a simulated run ran on: a stable SHA per run, so every attempt of a run shares it. */
export function headShaOf(runId: number): string {
  return createHash('sha1').update(`run:${runId}`).digest('hex');
}

const invalid = (e: z.ZodError) => error(422, `Invalid request: ${e.issues.map((i) => `${i.path.join('.') || 'body'} ${i.message}`).join('; ')}`);

/** `completed` needs a conclusion; a conclusion means completed. */
function settle(
  status: SimCheckRun['status'] | undefined,
  conclusion: SimCheckRun['conclusion'] | undefined,
  completedAt: string | undefined,
): { status?: SimCheckRun['status']; error?: Reply } {
  if ((status === 'completed' || completedAt) && !conclusion)
    return { error: error(422, 'Invalid request: conclusion is required when status is completed or completed_at is given') };
  return { status: conclusion ? 'completed' : status };
}

export interface CheckRunRoutes {
  readonly all: () => readonly SimCheckRun[];
}

export function checkRunRoutes(
  router: Router,
  deps: {
    readonly url: () => string;
    /** The installation the request's token belongs to, if it may act on this owner's repositories; else the refusal. */
    readonly asInstallation: (request: Request, owner: string) => { installationId: number } | Reply;
    /** The App's Checks permission: write, or none. */
    readonly permission: () => 'write' | 'none';
    /** Whether `sha` is a commit of owner/repo (a run of it ran on that commit). */
    readonly commitExists: (owner: string, repo: string, sha: string) => boolean;
  },
): CheckRunRoutes {
  const runs = new Map<number, SimCheckRun>();
  let nextId = 7_000_000;
  const body = (run: SimCheckRun) => ({
    id: run.id,
    head_sha: run.headSha,
    node_id: `CR_simcheck${run.id}`,
    external_id: run.externalId,
    url: `${deps.url()}/repos/${run.owner}/${run.repo}/check-runs/${run.id}`,
    html_url: `https://github.com/${run.owner}/${run.repo}/runs/${run.id}`,
    details_url: null,
    status: run.status,
    conclusion: run.conclusion,
    started_at: run.startedAt,
    completed_at: run.completedAt,
    output: {
      title: run.output?.title ?? null,
      summary: run.output?.summary ?? null,
      text: run.output?.text ?? null,
      annotations_count: 0,
      annotations_url: '',
    },
    name: run.name,
    check_suite: { id: 1 },
    app: { id: 4242, slug: 'ephemeral-runners-sim' },
    pull_requests: [],
  });
  const authorized = (r: Request, write: boolean): Reply | undefined => {
    const auth = deps.asInstallation(r, r.params.owner!);
    if ('status' in auth) return auth;
    if (write && deps.permission() !== 'write') return error(403, 'Resource not accessible by integration');
    return undefined;
  };
  const find = (r: Request): SimCheckRun | Reply => {
    const run = runs.get(Number(r.params.check_run_id));
    return run && run.owner.toLowerCase() === r.params.owner!.toLowerCase() && run.repo.toLowerCase() === r.params.repo!.toLowerCase()
      ? run
      : error(404, 'Not Found');
  };

  router.on('POST', '/repos/{owner}/{repo}/check-runs', (r) => {
    const denied = authorized(r, true);
    if (denied) return denied;
    const parsed = createBody.safeParse(r.body);
    if (!parsed.success) return invalid(parsed.error);
    const input = parsed.data;
    if (!deps.commitExists(r.params.owner!, r.params.repo!, input.head_sha)) return error(422, `No commit found for SHA: ${input.head_sha}`);
    const settled = settle(input.status, input.conclusion, input.completed_at);
    if (settled.error) return settled.error;
    const now = new Date().toISOString();
    const status = settled.status ?? 'queued';
    const run: SimCheckRun = {
      id: nextId++,
      owner: r.params.owner!,
      repo: r.params.repo!,
      headSha: input.head_sha,
      name: input.name,
      status,
      conclusion: input.conclusion ?? null,
      output: input.output ?? null,
      externalId: input.external_id ?? null,
      startedAt: input.started_at ?? now,
      completedAt: status === 'completed' ? (input.completed_at ?? now) : null,
      history: [{ status, conclusion: input.conclusion ?? null, title: input.output?.title }],
    };
    runs.set(run.id, run);
    return { status: 201, body: body(run) };
  });
  router.on('PATCH', '/repos/{owner}/{repo}/check-runs/{check_run_id}', (r) => {
    const denied = authorized(r, true);
    if (denied) return denied;
    const existing = find(r);
    if (!('headSha' in existing)) return existing;
    const parsed = updateBody.safeParse(r.body);
    if (!parsed.success) return invalid(parsed.error);
    const input = parsed.data;
    const settled = settle(input.status, input.conclusion, input.completed_at);
    if (settled.error) return settled.error;
    if (input.name) existing.name = input.name;
    if (settled.status) existing.status = settled.status;
    if (input.conclusion) existing.conclusion = input.conclusion;
    if (input.output) existing.output = input.output;
    if (existing.status === 'completed') existing.completedAt = input.completed_at ?? new Date().toISOString();
    existing.history.push({ status: existing.status, conclusion: existing.conclusion, title: existing.output?.title });
    return { status: 200, body: body(existing) };
  });
  router.on('GET', '/repos/{owner}/{repo}/check-runs/{check_run_id}', (r) => {
    const denied = authorized(r, false);
    if (denied) return denied;
    const run = find(r);
    return 'headSha' in run ? { status: 200, body: body(run) } : run;
  });
  router.on('GET', '/repos/{owner}/{repo}/commits/{ref}/check-runs', (r) => {
    const denied = authorized(r, false);
    if (denied) return denied;
    const found = [...runs.values()].filter(
      (c) => c.headSha === r.params.ref && c.owner.toLowerCase() === r.params.owner!.toLowerCase() && c.repo.toLowerCase() === r.params.repo!.toLowerCase(),
    );
    return { status: 200, body: { total_count: found.length, check_runs: found.map(body) } };
  });
  return { all: () => [...runs.values()] };
}
