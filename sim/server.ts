import { encodeJitConfig } from './jit-config';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import * as z from 'zod';
import { appKeysFromPem, AuthError, generateAppKeys, newInstallationToken, verifyAppJwt } from './app-auth';
import { Deliveries, deliveryItem, type WebhookFaults } from './deliveries';
import { error, etagOf, readJson, Router, send, type Reply, type Request } from './http';
import { jobBody, REALISTIC_TIMING, runnerBody, sameScope, SimModel, type Scope, type SimJob, type SimRunner, type SimTiming } from './model';
import { checkRunRoutes, headShaOf, type SimCheckRun } from './check-runs';
import { workflowJobPayload } from './payloads';
import { scaleSetService, type ScaleSetService, type ScaleSetStats, type ScaleSetTiming } from './scale-sets';

/*
 * The GitHub simulator: the REST shapes of the real API for what the control plane uses (App auth, installation
 * tokens, JIT runners, runners, runner groups, jobs and runs, App webhook deliveries), signed workflow_job webhooks,
 * GitHub's assignment of jobs to runners, the simulated runner's protocol, the runner scale set protocol (the Actions
 * service under /broker, sim/scale-sets.ts), fault injection, and /_sim control and stats endpoints. The real Octokit
 * client talks to it through its base URL.
 */

export interface SimulatorOptions {
  readonly port?: number;
  readonly appId?: number;
  /** PEM of the App's private key; generated when absent (then read it from `simulator.privateKeyPem`). */
  readonly privateKeyPem?: string;
  /** Accounts (orgs) the App is installed on. */
  readonly accounts?: readonly string[];
  readonly webhookUrl?: string;
  readonly webhookSecret?: string;
  /** GitHub cancels a job queued 24 h. */
  readonly queueTimeoutMs?: number;
  /** Seed of the fault dice, for reproducible runs. */
  readonly seed?: number;
  /** GitHub's clocks (assignment delay, offline after, job lock, renewal); REALISTIC_TIMING by default. */
  readonly timing?: Partial<SimTiming>;
  /** GitHub's limits (secondary rate limit points, registrations); GitHub's values by default. */
  readonly limits?: Partial<SimLimits>;
  /** The App's Actions permission (default read): re-running a job needs write. */
  readonly actionsPermission?: 'read' | 'write';
  /** The App's Checks permission (default write): writing check runs needs it. */
  readonly checksPermission?: 'write' | 'none';
  /**
   * More GitHub Apps, installed on the same accounts: each its own id, key and installations (so its own secondary
   * rate limit, which GitHub counts per App installation), none sending webhooks. Ids 4243 and up.
   */
  readonly extraApps?: number;
  /** Runner scale sets: their clocks and acquire mode (REALISTIC_SCALE_SET_TIMING by default; PUT /_sim/scale-sets/timing). */
  readonly scaleSets?: Partial<ScaleSetTiming>;
}

/** A GitHub App of the simulator: its id and private key. */
export interface SimApp {
  readonly appId: number;
  readonly privateKeyPem: string;
}

export interface SimLimits {
  /** Secondary rate limit points per installation per minute (0: off). */
  readonly pointsPerMinute: number;
  readonly registrationsPer5Minutes: number;
  readonly runnersPerGroup: number;
}

export interface RestFaults {
  /** Fractions 0..1 of API requests. */
  serverError: number;
  secondaryRateLimit: number;
  retryAfterSeconds: number;
  /** Deterministic: the next `count` API requests answer `status`. */
  failNext: { status: 500 | 502 | 503 | 403; count: number }[];
}

export interface Simulator {
  readonly url: string;
  readonly appId: number;
  readonly privateKeyPem: string;
  /** The extra Apps (SimulatorOptions.extraApps), in order. */
  readonly extraApps: readonly SimApp[];
  readonly model: SimModel;
  readonly deliveries: Deliveries;
  /** Runner scale sets, their sessions and message queues: inspection, timing, faults, deletion on GitHub's side. */
  readonly scaleSets: ScaleSetService;
  /** Every check run written, with its history. */
  checkRuns(): readonly SimCheckRun[];
  stats(): SimStats;
  /** Where webhooks go, and the secret they are signed with. */
  setWebhook(url: string, secret: string): void;
  stop(): Promise<void>;
}

export interface SimStats {
  calls: Record<string, number>;
  callsByInstallation: Record<string, number>;
  notModified: number;
  tokensMinted: number;
  faultsInjected: number;
  /** Requests refused by GitHub's secondary rate limit on points, and registrations refused by the registration limit. */
  secondaryRateLimited: number;
  registrationsLimited: number;
  jobs: Record<string, number>;
  runners: { online: number; offline: number; busy: number; idle: number };
  deliveries: Deliveries['stats'];
  scaleSets: ScaleSetStats;
}

const HOUR = 3600;

/** A small seeded PRNG (mulberry32), so fault runs repeat. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const jitBody = z.object({
  name: z.string().min(1).max(64),
  runner_group_id: z.number().int().positive(),
  labels: z.array(z.string().min(1)).min(1).max(100),
  work_folder: z.string().optional(),
});

const timingSpec = z
  .strictObject({
    assignDelayMs: z.int().min(0).max(60_000),
    offlineAfterMs: z.int().min(100),
    jobLockMs: z.int().min(100),
    renewEveryMs: z.int().min(50),
    cancelTimeoutMs: z.int().min(100),
  })
  .partial();

const runSpec = z.object({
  owner: z.string(),
  repo: z.string(),
  workflowName: z.string().default('CI'),
  jobs: z.array(
    z.object({
      name: z.string().default('build'),
      labels: z.array(z.string()).min(1),
      durationMs: z.number().int().min(0).default(100),
      outcome: z.enum(['success', 'failure']).default('success'),
      /** Fan out into this many jobs (a matrix). */
      matrix: z.number().int().min(1).max(256).default(1),
    }),
  ),
});

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const appId = options.appId ?? 4242;
  const keys = options.privateKeyPem ? appKeysFromPem(options.privateKeyPem) : generateAppKeys();
  // Every App: the one that sends webhooks (its installations are the model's), and the extra ones, whose installation
  // ids are their own (App k's installation on an account: the model's id + 100,000 × k).
  const apps = [{ appId, keys }, ...Array.from({ length: options.extraApps ?? 0 }, (_, i) => ({ appId: appId + 1 + i, keys: generateAppKeys() }))];
  const INSTALLATION_STRIDE = 100_000;
  const appIndexOf = (installationId: number) => Math.floor(installationId / INSTALLATION_STRIDE);
  /** The model's installation (its account) behind any App's installation id. */
  const accountInstallation = (installationId: number) => model.installations.get(installationId % INSTALLATION_STRIDE);
  const installationOf = (appIndex: number, modelInstallationId: number) => appIndex * INSTALLATION_STRIDE + modelInstallationId;
  const random = seeded(options.seed ?? 1);
  const webhook = { url: options.webhookUrl, secret: options.webhookSecret ?? 'sim-secret' };
  const tokens = new Map<string, { installationId: number; expiresAt: number }>();
  const usage = new Map<number, { used: number; windowStart: number }>();
  const counters = {
    calls: {} as Record<string, number>,
    callsByInstallation: {} as Record<string, number>,
    notModified: 0,
    tokensMinted: 0,
    faultsInjected: 0,
    secondaryRateLimited: 0,
    registrationsLimited: 0,
  };
  const limits: SimLimits = { pointsPerMinute: 900, registrationsPer5Minutes: 1_500, runnersPerGroup: 10_000, ...options.limits };
  const restFaults: RestFaults = { serverError: 0, secondaryRateLimit: 0, retryAfterSeconds: 1, failNext: [] };
  let url = '';
  const jitConfig = { minBytes: 0 };

  const deliveries = new Deliveries(() => webhook, random);
  const model = new SimModel(
    options.accounts ?? ['octo-org'],
    ({ job, action }) => {
      const installation = model.installations.get(job.installationId)!;
      deliveries.enqueue('workflow_job', action, workflowJobPayload(job, action, url, installation), {
        installationId: job.installationId,
        repositoryId: job.repoId,
        orderKey: String(job.id),
      });
      // GitHub sends the workflow_job webhooks whatever runs the job; a scale set's queue gets its job messages too.
      scaleSets.onJobEvent({ job, action });
    },
    Date.now,
    { ...REALISTIC_TIMING, ...options.timing },
  );
  const sweeper = setInterval(() => {
    model.expireQueued(options.queueTimeoutMs ?? 24 * HOUR * 1000);
    model.sweep();
  }, 250);

  const now = () => Math.floor(Date.now() / 1000);

  // --- authentication ----------------------------------------------------------------------------------------------
  const bearer = (request: Request) => /^(?:bearer|token)\s+(.+)$/i.exec(String(request.headers.authorization ?? ''))?.[1];
  /** The App a JWT is from (its index in `apps`), checked as GitHub checks it; or the 401. */
  const appOf = (request: Request): number | Reply => {
    const jwt = bearer(request);
    if (!jwt || !jwt.includes('.')) return error(401, 'A JSON web token could not be decoded');
    let issuer: unknown;
    try {
      issuer = (JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as { iss?: unknown }).iss;
    } catch {
      return error(401, 'A JSON web token could not be decoded');
    }
    const index = Math.max(
      0,
      apps.findIndex((a) => String(a.appId) === String(issuer)),
    );
    try {
      verifyAppJwt(jwt, apps[index]!.appId, apps[index]!.keys.publicKey, now());
      return index;
    } catch (e) {
      return error(401, e instanceof AuthError ? e.message : 'Bad credentials');
    }
  };
  const asApp = (request: Request): Reply | undefined => {
    const app = appOf(request);
    return typeof app === 'number' ? undefined : app;
  };
  const asInstallation = (request: Request, owner: string): { installationId: number } | Reply => {
    const token = bearer(request);
    const record = token ? tokens.get(token) : undefined;
    if (!record || record.expiresAt <= now()) return error(401, 'Bad credentials');
    const installation = accountInstallation(record.installationId)!;
    if (installation.account.login.toLowerCase() !== owner.toLowerCase()) return error(403, 'Resource not accessible by integration');
    return { installationId: record.installationId };
  };
  const isReply = (value: unknown): value is Reply => typeof value === 'object' && value !== null && typeof (value as { status?: unknown }).status === 'number';

  // --- routes ------------------------------------------------------------------------------------------------------
  const router = new Router();
  const installationBody = (id: number) => {
    const i = accountInstallation(id)!;
    return {
      id,
      account: { login: i.account.login, id: i.account.id, type: i.account.type },
      app_id: apps[appIndexOf(id)]!.appId,
      target_type: i.account.type,
      permissions: {
        organization_self_hosted_runners: 'write',
        actions: options.actionsPermission ?? 'read',
        ...((options.checksPermission ?? 'write') === 'write' ? { checks: 'write' } : {}),
      },
      events: ['workflow_job'],
      repository_selection: 'all',
    };
  };

  /** Whether `id` is an installation of App `app` (each App sees only its own). */
  const isInstallationOf = (app: number, id: number) => appIndexOf(id) === app && model.installations.has(id % INSTALLATION_STRIDE);
  router.on('GET', '/app', (r) => {
    const app = appOf(r);
    return typeof app !== 'number'
      ? app
      : {
          status: 200,
          body: {
            id: apps[app]!.appId,
            slug: `ephemeral-runners-sim${app === 0 ? '' : `-${app}`}`,
            name: 'ephemeral-runners (simulated)',
            events: app === 0 ? ['workflow_job'] : [],
          },
        };
  });
  router.on('GET', '/app/installations', (r) => {
    const app = appOf(r);
    return typeof app !== 'number'
      ? app
      : paginate(
          r,
          [...model.installations.keys()].map((id) => installationBody(installationOf(app, id))),
          (items) => items,
        );
  });
  router.on('GET', '/app/installations/{installation_id}', (r) => {
    const app = appOf(r);
    if (typeof app !== 'number') return app;
    const id = Number(r.params.installation_id);
    return isInstallationOf(app, id) ? { status: 200, body: installationBody(id) } : error(404, 'Not Found');
  });
  for (const template of ['/orgs/{owner}/installation', '/users/{owner}/installation', '/repos/{owner}/{repo}/installation']) {
    router.on('GET', template, (r) => {
      const app = appOf(r);
      if (typeof app !== 'number') return app;
      const installation = model.installationFor(r.params.owner!);
      return installation ? { status: 200, body: installationBody(installationOf(app, installation.id)) } : error(404, 'Not Found');
    });
  }
  router.on('POST', '/app/installations/{installation_id}/access_tokens', (r) => {
    const app = appOf(r);
    if (typeof app !== 'number') return app;
    const id = Number(r.params.installation_id);
    if (!isInstallationOf(app, id)) return error(404, 'Not Found');
    const token = newInstallationToken();
    const expiresAt = now() + HOUR;
    tokens.set(token, { installationId: id, expiresAt });
    counters.tokensMinted++;
    return {
      status: 201,
      body: {
        token,
        expires_at: new Date(expiresAt * 1000).toISOString(),
        permissions: { organization_self_hosted_runners: 'write', actions: 'read' },
        repository_selection: 'all',
      },
    };
  });

  // Runners, org and repo scope alike.
  const scopes: { prefix: string; scope: (p: Record<string, string>) => Scope }[] = [
    { prefix: '/orgs/{owner}', scope: (p) => ({ kind: 'org', org: p.owner! }) },
    { prefix: '/repos/{owner}/{repo}', scope: (p) => ({ kind: 'repo', owner: p.owner!, repo: p.repo! }) },
  ];
  const inScope = (runner: SimRunner, scope: Scope) =>
    scope.kind === 'org'
      ? runner.scope.kind === 'org' && runner.scope.org.toLowerCase() === scope.org.toLowerCase()
      : runner.scope.kind === 'repo' && `${runner.scope.owner}/${runner.scope.repo}`.toLowerCase() === `${scope.owner}/${scope.repo}`.toLowerCase();

  for (const { prefix, scope } of scopes) {
    router.on('POST', `${prefix}/actions/runners/generate-jitconfig`, (r) => {
      const auth = asInstallation(r, r.params.owner!);
      if (isReply(auth)) return auth;
      const parsed = jitBody.safeParse(r.body);
      if (!parsed.success) return error(422, `Invalid request: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`);
      const s = scope(r.params);
      if (s.kind === 'repo' && parsed.data.runner_group_id !== 1) return error(422, 'Runner groups are not available for repository runners');
      if (!model.runnerGroups.some((g) => g.id === parsed.data.runner_group_id)) return error(404, 'Runner group not found');
      const limited = registrationLimit(s);
      if (limited) return limited;
      const runner = model.registerRunner(s, parsed.data.name, parsed.data.labels, parsed.data.runner_group_id);
      if (runner === 'conflict') return error(409, `Already exists - A runner with the name ${parsed.data.name} already exists.`);
      const encoded = encodeJitConfig(
        { url, runnerId: runner.id, runnerName: runner.name, secret: runner.secret, runnerGroupId: parsed.data.runner_group_id },
        jitConfig.minBytes,
      );
      return { status: 201, body: { runner: runnerBody(runner), encoded_jit_config: encoded } };
    });
    router.on('GET', `${prefix}/actions/runners`, (r) => {
      const auth = asInstallation(r, r.params.owner!);
      if (isReply(auth)) return auth;
      const s = scope(r.params);
      const all = [...model.runners.values()].filter((runner) => inScope(runner, s) && (!r.query.get('name') || runner.name === r.query.get('name')));
      return paginate(r, all.map(runnerBody), (items, total) => ({ total_count: total, runners: items }));
    });
    router.on('GET', `${prefix}/actions/runners/{runner_id}`, (r) => {
      const auth = asInstallation(r, r.params.owner!);
      if (isReply(auth)) return auth;
      const runner = model.runners.get(Number(r.params.runner_id));
      return runner && inScope(runner, scope(r.params)) ? { status: 200, body: runnerBody(runner) } : error(404, 'Not Found');
    });
    router.on('DELETE', `${prefix}/actions/runners/{runner_id}`, (r) => {
      const auth = asInstallation(r, r.params.owner!);
      if (isReply(auth)) return auth;
      const runner = model.runners.get(Number(r.params.runner_id));
      if (!runner || !inScope(runner, scope(r.params))) return error(404, 'Not Found');
      return model.deleteRunner(runner) === 'busy' ? error(422, `Bad request - Runner "${runner.name}" is still running a job"`) : { status: 204 };
    });
  }
  router.on('GET', '/orgs/{owner}/actions/runner-groups', (r) => {
    const auth = asInstallation(r, r.params.owner!);
    if (isReply(auth)) return auth;
    const groups = model.runnerGroups.map((g) => ({
      ...g,
      visibility: 'all',
      runners_url: `${url}/orgs/${r.params.owner}/actions/runner-groups/${g.id}/runners`,
      inherited: false,
      allows_public_repositories: false,
    }));
    return { status: 200, body: { total_count: groups.length, runner_groups: groups } };
  });

  // Jobs and runs.
  const repoJob = (r: Request): SimJob | Reply => {
    const auth = asInstallation(r, r.params.owner!);
    if (isReply(auth)) return auth;
    const job = model.jobs.get(Number(r.params.job_id));
    return job && job.owner.toLowerCase() === r.params.owner!.toLowerCase() && job.repo.toLowerCase() === r.params.repo!.toLowerCase()
      ? job
      : error(404, 'Not Found');
  };
  router.on('GET', '/installation/repositories', (r) => {
    const token = bearer(r);
    const record = token ? tokens.get(token) : undefined;
    if (!record || record.expiresAt <= now()) return error(401, 'Bad credentials');
    const account = accountInstallation(record.installationId)!.account;
    const repositories = model.repositoriesOf(account.login).map((repo) => ({
      id: repo.id,
      node_id: `R_sim${repo.id}`,
      name: repo.name,
      full_name: `${account.login}/${repo.name}`,
      private: true,
      owner: { login: account.login, id: account.id, type: account.type },
      html_url: `https://github.com/${account.login}/${repo.name}`,
      url: `${url}/repos/${account.login}/${repo.name}`,
    }));
    return paginate(r, repositories, (items, total) => ({ total_count: total, repository_selection: 'all', repositories: items }));
  });
  router.on('GET', '/repos/{owner}/{repo}/actions/jobs/{job_id}', (r) => {
    const job = repoJob(r);
    if (isReply(job)) return job;
    const body = jobBody(job, url);
    const etag = etagOf(body);
    // A single resource has an ETag too: asked again unchanged, a 304 that the rate limit does not count.
    if (r.headers['if-none-match'] === etag) return { status: 304, headers: { etag } };
    return { status: 200, body, headers: { etag } };
  });
  router.on('POST', '/repos/{owner}/{repo}/actions/jobs/{job_id}/rerun', (r) => {
    const job = repoJob(r);
    if (isReply(job)) return job;
    // An installation token carries the App's permissions: re-running needs Actions: write.
    if ((options.actionsPermission ?? 'read') !== 'write') return error(403, 'Resource not accessible by integration');
    const rerun = model.rerunJob(job);
    if (rerun === 'not-completed') return error(403, 'This job cannot be re-run while it is in progress.');
    if (rerun === 'run-in-progress') return error(403, 'The workflow run containing this job is already running');
    return { status: 201, body: {} };
  });
  router.on('GET', '/repos/{owner}/{repo}/actions/runs', (r) => {
    const auth = asInstallation(r, r.params.owner!);
    if (isReply(auth)) return auth;
    const status = r.query.get('status');
    const byRun = new Map<number, SimJob[]>();
    for (const job of model.jobs.values()) {
      if (job.owner.toLowerCase() !== r.params.owner!.toLowerCase() || job.repo.toLowerCase() !== r.params.repo!.toLowerCase()) continue;
      byRun.set(job.runId, [...(byRun.get(job.runId) ?? []), job]);
    }
    const runs = [...byRun.entries()]
      .map(([id, jobs]) => ({
        id,
        jobs,
        status: jobs.some((j) => j.status === 'in_progress') ? 'in_progress' : jobs.some((j) => j.status === 'queued') ? 'queued' : 'completed',
      }))
      .filter((run) => !status || run.status === status)
      .map((run) => ({
        id: run.id,
        name: run.jobs[0]!.workflowName,
        status: run.status,
        conclusion: null,
        run_attempt: 1,
        repository: { full_name: `${r.params.owner}/${r.params.repo}` },
        jobs_url: `${url}/repos/${r.params.owner}/${r.params.repo}/actions/runs/${run.id}/jobs`,
      }));
    return paginate(r, runs, (items, total) => ({ total_count: total, workflow_runs: items }));
  });
  router.on('GET', '/repos/{owner}/{repo}/actions/runs/{run_id}/jobs', (r) => {
    const auth = asInstallation(r, r.params.owner!);
    if (isReply(auth)) return auth;
    const jobs = [...model.jobs.values()].filter((j) => j.runId === Number(r.params.run_id)).map((j) => jobBody(j, url));
    return paginate(r, jobs, (items, total) => ({ total_count: total, jobs: items }));
  });
  router.on('POST', '/repos/{owner}/{repo}/actions/runs/{run_id}/cancel', (r) => {
    const auth = asInstallation(r, r.params.owner!);
    if (isReply(auth)) return auth;
    // "Cancel a workflow run" needs the Actions repository permission (write), as re-running does.
    if ((options.actionsPermission ?? 'read') !== 'write') return error(403, 'Resource not accessible by integration');
    if (
      ![...model.jobs.values()].some(
        (j) =>
          j.runId === Number(r.params.run_id) &&
          j.owner.toLowerCase() === r.params.owner!.toLowerCase() &&
          j.repo.toLowerCase() === r.params.repo!.toLowerCase(),
      )
    )
      return error(404, 'Not Found');
    for (const job of model.jobs.values()) if (job.runId === Number(r.params.run_id)) model.cancelJob(job);
    return { status: 202, body: {} };
  });

  const checkRuns = checkRunRoutes(router, {
    url: () => url,
    asInstallation,
    permission: () => options.checksPermission ?? 'write',
    commitExists: (owner, repo, sha) =>
      [...model.jobs.values()].some(
        (j) => headShaOf(j.runId) === sha && j.owner.toLowerCase() === owner.toLowerCase() && j.repo.toLowerCase() === repo.toLowerCase(),
      ),
  });

  // App webhook deliveries.
  router.on('GET', '/app/hook/deliveries', (r) => {
    const denied = asApp(r);
    if (denied) return denied;
    const perPage = Math.min(100, Number(r.query.get('per_page') ?? 30));
    const cursor = r.query.get('cursor');
    // Newest first, cursor = the id to continue below.
    // Only what GitHub attempted is listed: a delivery still held back (reordered, delayed) is not there yet.
    const sorted = [...deliveries.all]
      .filter((d) => d.status !== 'pending')
      .sort((a, b) => b.id - a.id)
      .filter((d) => !cursor || d.id < Number(cursor));
    const page = sorted.slice(0, perPage);
    const headers: Record<string, string> = {};
    if (sorted.length > perPage) headers.link = `<${url}/app/hook/deliveries?per_page=${perPage}&cursor=${page.at(-1)!.id}>; rel="next"`;
    return { status: 200, body: page.map(deliveryItem), headers };
  });
  router.on('GET', '/app/hook/deliveries/{delivery_id}', (r) => {
    const denied = asApp(r);
    if (denied) return denied;
    const delivery = deliveries.all.find((d) => d.id === Number(r.params.delivery_id));
    return delivery
      ? {
          status: 200,
          body: {
            ...deliveryItem(delivery),
            request: { headers: {}, payload: JSON.parse(delivery.body) as unknown },
            response: { headers: {}, payload: null },
            url: webhook.url,
          },
        }
      : error(404, 'Not Found');
  });
  router.on('POST', '/app/hook/deliveries/{delivery_id}/attempts', (r) => {
    const denied = asApp(r);
    if (denied) return denied;
    const delivery = deliveries.all.find((d) => d.id === Number(r.params.delivery_id));
    if (!delivery) return error(404, 'Not Found');
    deliveries.redeliver(delivery);
    return { status: 202, body: {} };
  });
  router.on('GET', '/rate_limit', () => ({ status: 200, body: { resources: { core: { limit: 5000, remaining: 5000, reset: now() + HOUR, used: 0 } } } }));

  // The simulated runner's protocol: what the real listener does with the Actions service, reduced to its
  // observable contract (sim/runner/layout/bin/listener.mjs): a message session per runner, long polls for the next
  // job, job-request renewals, completion. The simulator watches these connections: a runner whose polls stop goes
  // offline, a job whose renewals stop fails (model.sweep, GitHub's clocks in model.timing).
  const runnerOf = (r: Request): SimRunner | Reply => {
    const secret = /^RunnerToken\s+(.+)$/.exec(String(r.headers.authorization ?? ''))?.[1];
    const runner = [...model.runners.values()].find((x) => x.secret === secret);
    return runner ?? error(401, 'runner not registered (deleted, or already ran its job)');
  };
  router.on('POST', '/_runner/sessions', (r) => {
    const runner = runnerOf(r);
    if (isReply(runner)) return runner;
    const session = model.openSession(runner);
    if (session === 'conflict') return error(409, 'A session for this runner already exists.', { 'x-sim-exception': 'TaskAgentSessionConflictException' });
    return { status: 200, body: { sessionId: session, agent: { id: runner.id, name: runner.name } } };
  });
  router.on('DELETE', '/_runner/sessions/{session_id}', (r) => {
    const runner = runnerOf(r);
    if (isReply(runner)) return runner;
    model.closeSession(runner, r.params.session_id!);
    return { status: 204 };
  });
  router.on('GET', '/_runner/sessions/{session_id}/next', async (r) => {
    const runner = runnerOf(r);
    if (isReply(runner)) return runner;
    if (runner.session !== r.params.session_id) return error(404, 'session not found (expired: the runner was offline)');
    const waitMs = Math.min(50_000, Number(r.query.get('waitMs') ?? 20_000));
    runner.openPolls++;
    const job = await new Promise<SimJob | undefined>((resolve) => {
      const timer = setTimeout(() => done(undefined), waitMs);
      const done = (assigned: SimJob | undefined) => {
        clearTimeout(timer);
        if (runner.waiter === done) runner.waiter = undefined;
        resolve(assigned);
      };
      // The runner's process died or its network went: the connection closes, and from then on it is not seen.
      r.closed.then(
        () => done(undefined),
        () => undefined,
      );
      model.waitForJob(runner, done);
    }).finally(() => {
      runner.openPolls--;
      runner.lastSeenAt = Date.now();
    });
    if (!model.runners.has(runner.id)) return error(410, 'runner was removed');
    return job
      ? {
          status: 200,
          body: { id: job.id, name: job.name, repo: job.repo, durationMs: job.durationMs, outcome: job.outcome, renewEveryMs: model.timing.renewEveryMs },
        }
      : { status: 204 };
  });
  router.on('POST', '/_runner/jobs/{job_id}/renew', (r) => {
    const runner = runnerOf(r);
    if (isReply(runner)) return runner;
    const renewed = model.renewJob(runner, Number(r.params.job_id));
    return renewed === 'not-assigned' ? error(409, 'job request is no longer assigned to this runner') : { status: 200, body: renewed };
  });
  router.on('POST', '/_runner/jobs/{job_id}/complete', (r) => {
    const runner = runnerOf(r);
    if (isReply(runner)) return runner;
    const conclusion = (r.body as { conclusion?: string } | undefined)?.conclusion ?? 'success';
    return model.completeJob(runner, Number(r.params.job_id), conclusion) === 'completed'
      ? { status: 200, body: {} }
      : error(409, 'job not assigned to this runner');
  });

  // Runner scale sets: registration token, runner-registration, the Actions service and its message queue (/broker).
  const scaleSets = scaleSetService(router, {
    model,
    url: () => url,
    random,
    asInstallation,
    registrationLimit: (scope) => registrationLimit(scope),
    jitMinBytes: () => jitConfig.minBytes,
    timing: options.scaleSets,
  });
  model.eligible = scaleSets.eligible;

  // Control and inspection.
  router.on('POST', '/_sim/runs', (r) => {
    const parsed = runSpec.safeParse(r.body);
    if (!parsed.success) return error(422, parsed.error.message);
    const specs = parsed.data.jobs.flatMap((j) => Array.from({ length: j.matrix }, (_, i) => ({ ...j, name: j.matrix > 1 ? `${j.name} (${i + 1})` : j.name })));
    const jobs = model.queueRun(parsed.data.owner, parsed.data.repo, parsed.data.workflowName, specs);
    return { status: 201, body: { runId: jobs[0]?.runId, jobs: jobs.map((j) => jobBody(j, url)) } };
  });
  router.on('POST', '/_sim/jobs/{job_id}/cancel', (r) => {
    const job = model.jobs.get(Number(r.params.job_id));
    if (!job) return error(404, 'Not Found');
    model.cancelJob(job);
    return { status: 200, body: jobBody(job, url) };
  });
  router.on('GET', '/_sim/jobs', () => ({ status: 200, body: [...model.jobs.values()].map((j) => jobBody(j, url)) }));
  router.on('GET', '/_sim/runners', () => ({ status: 200, body: [...model.runners.values()].map(runnerBody) }));
  router.on('GET', '/_sim/check-runs', () => ({ status: 200, body: checkRuns.all() }));
  router.on('GET', '/_sim/stats', () => ({ status: 200, body: stats() }));
  router.on('PUT', '/_sim/faults', (r) => {
    const body = (r.body ?? {}) as { webhooks?: Partial<WebhookFaults>; rest?: Partial<RestFaults> };
    deliveries.faults = { ...deliveries.faults, ...body.webhooks };
    Object.assign(restFaults, body.rest);
    return { status: 200, body: { webhooks: deliveries.faults, rest: restFaults } };
  });
  // Test knob: JIT configs of at least this many bytes (GitHub's are several KB; 8 and 16 KB try the storage paths).
  router.on('PUT', '/_sim/jit-config', (r) => {
    const body = (r.body ?? {}) as { minBytes?: number };
    jitConfig.minBytes = Math.max(0, Math.min(64 * 1024, Number(body.minBytes ?? 0)));
    return { status: 200, body: jitConfig };
  });
  router.on('PUT', '/_sim/timing', (r) => {
    const parsed = timingSpec.safeParse(r.body ?? {});
    if (!parsed.success) return error(422, parsed.error.message);
    model.timing = { ...model.timing, ...parsed.data };
    return { status: 200, body: model.timing };
  });
  router.on('PUT', '/_sim/webhook', (r) => {
    const body = (r.body ?? {}) as { url?: string; secret?: string };
    webhook.url = body.url ?? webhook.url;
    webhook.secret = body.secret ?? webhook.secret;
    return { status: 200, body: { url: webhook.url } };
  });

  function paginate<T>(r: Request, items: T[], wrap: (items: T[], total: number) => unknown): Reply {
    const perPage = Math.max(1, Math.min(100, Number(r.query.get('per_page') ?? 30)));
    const page = Math.max(1, Number(r.query.get('page') ?? 1));
    const last = Math.max(1, Math.ceil(items.length / perPage));
    const body = wrap(items.slice((page - 1) * perPage, page * perPage), items.length);
    const base = `${url}${r.route.replace(/\{(\w+)\}/g, (_, n: string) => r.params[n]!)}?per_page=${perPage}`;
    const links = [
      ...(page < last ? [`<${base}&page=${page + 1}>; rel="next"`, `<${base}&page=${last}>; rel="last"`] : []),
      ...(page > 1 ? [`<${base}&page=1>; rel="first"`, `<${base}&page=${page - 1}>; rel="prev"`] : []),
    ];
    const etag = etagOf(body);
    // Conditional requests: a matching ETag gets 304, which GitHub does not count against the rate limit.
    if (r.headers['if-none-match'] === etag) return { status: 304, headers: { etag } };
    return { status: 200, body, headers: { etag, ...(links.length > 0 ? { link: links.join(', ') } : {}) } };
  }

  function stats(): SimStats {
    const jobs: Record<string, number> = { queued: 0, in_progress: 0, completed: 0 };
    for (const job of model.jobs.values()) jobs[job.status] = (jobs[job.status] ?? 0) + 1;
    const runners = { online: 0, offline: 0, busy: 0, idle: 0 };
    for (const runner of model.runners.values()) {
      runners[runner.status]++;
      if (runner.status === 'online') runners[runner.busy ? 'busy' : 'idle']++;
    }
    return {
      ...counters,
      calls: { ...counters.calls },
      callsByInstallation: { ...counters.callsByInstallation },
      jobs,
      runners,
      deliveries: { ...deliveries.stats },
      scaleSets: scaleSets.stats(),
    };
  }

  const rateHeaders = (installationId: number | undefined): Record<string, string> => {
    if (installationId === undefined) return {};
    const window = usage.get(installationId) ?? { used: 0, windowStart: now() };
    if (now() - window.windowStart >= HOUR) Object.assign(window, { used: 0, windowStart: now() });
    window.used++;
    usage.set(installationId, window);
    return {
      'x-ratelimit-limit': '5000',
      'x-ratelimit-remaining': String(Math.max(0, 5000 - window.used)),
      'x-ratelimit-used': String(window.used),
      'x-ratelimit-reset': String(window.windowStart + HOUR),
      'x-ratelimit-resource': 'core',
    };
  };

  /*
   * GitHub's secondary rate limit on points ("Rate limits for the REST API", secondary rate limits): at most 900 points
   * a minute per installation, a GET/HEAD/OPTIONS costing 1 and a POST/PATCH/PUT/DELETE 5 — so at most 180 writes a
   * minute (JIT configs and runner deletions) for one App installation. Over it: 403 with retry-after.
   */
  const points = new Map<number, { used: number; windowStart: number }>();
  const secondaryLimit = (method: string, installationId: number | undefined): Reply | undefined => {
    if (installationId === undefined || limits.pointsPerMinute <= 0) return undefined;
    const window = points.get(installationId) ?? { used: 0, windowStart: Date.now() };
    if (Date.now() - window.windowStart >= 60_000) Object.assign(window, { used: 0, windowStart: Date.now() });
    const cost = ['GET', 'HEAD', 'OPTIONS'].includes(method) ? 1 : 5;
    if (window.used + cost > limits.pointsPerMinute) {
      counters.secondaryRateLimited++;
      return error(403, 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.', {
        'retry-after': String(Math.max(1, Math.ceil((window.windowStart + 60_000 - Date.now()) / 1000))),
      });
    }
    window.used += cost;
    points.set(installationId, window);
    return undefined;
  };
  /*
   * Registrations: at most 1,500 runners registered per 5 minutes per repository or organization (GitHub Actions
   * limits, "self-hosted runner registration"), and 10,000 runners in one runner group.
   */
  const registrations = new Map<string, number[]>();
  const registrationLimit = (scope: Scope): Reply | undefined => {
    const key = scope.kind === 'org' ? `org:${scope.org.toLowerCase()}` : `repo:${scope.owner}/${scope.repo}`.toLowerCase();
    const recent = (registrations.get(key) ?? []).filter((t) => Date.now() - t < 5 * 60_000);
    if (recent.length >= limits.registrationsPer5Minutes) {
      counters.registrationsLimited++;
      return error(429, 'Too many runner registrations: try again later.', { 'retry-after': String(Math.ceil((recent[0]! + 5 * 60_000 - Date.now()) / 1000)) });
    }
    if ([...model.runners.values()].filter((r) => sameScope(r.scope, scope)).length >= limits.runnersPerGroup)
      return error(422, 'The runner group has reached its limit of runners.');
    recent.push(Date.now());
    registrations.set(key, recent);
    return undefined;
  };

  const injectedFault = (): Reply | undefined => {
    const forced = restFaults.failNext[0];
    let status: number | undefined;
    if (forced) {
      status = forced.status;
      if (--forced.count <= 0) restFaults.failNext.shift();
    } else if (random() < restFaults.serverError) status = 502;
    else if (random() < restFaults.secondaryRateLimit) status = 403;
    if (status === undefined) return undefined;
    counters.faultsInjected++;
    return status === 403
      ? error(403, 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.', {
          'retry-after': String(restFaults.retryAfterSeconds),
        })
      : error(status, 'Server Error');
  };

  const server: Server = createServer(async (req, res) => {
    try {
      const target = new URL(req.url ?? '/', 'http://sim');
      const found = router.match(req.method ?? 'GET', target.pathname);
      if (!found) return send(res, error(404, 'Not Found'));
      const body = await readJson(req);
      if (body === Symbol.for('invalid-json')) return send(res, error(400, 'Problems parsing JSON'));
      const closed = new Promise<void>((resolve) => res.once('close', () => resolve()));
      const request: Request = {
        method: req.method!,
        route: found.route.template,
        params: found.params,
        query: target.searchParams,
        headers: req.headers,
        body,
        closed,
      };
      // The Actions service and its message queue (/broker) are another service: counted like REST calls, but neither
      // the REST secondary rate limit nor REST faults apply to them; they have faults of their own.
      const isBroker = found.route.template.startsWith('/broker/');
      const isApi = !isBroker && !found.route.template.startsWith('/_');
      if (isBroker) {
        const key = `${req.method} ${found.route.template}`;
        counters.calls[key] = (counters.calls[key] ?? 0) + 1;
        const fault = scaleSets.injectFault();
        if (fault) return send(res, { ...fault, headers: { activityid: randomUUID(), ...fault.headers } });
      }
      if (isApi) {
        const key = `${req.method} ${found.route.template}`;
        counters.calls[key] = (counters.calls[key] ?? 0) + 1;
        const fault = injectedFault();
        if (fault) return send(res, fault);
        const bearerToken = bearer(request);
        const limited = secondaryLimit(req.method ?? 'GET', bearerToken ? tokens.get(bearerToken)?.installationId : undefined);
        if (limited) return send(res, limited);
      }
      const reply = await found.route.handler(request);
      const token = bearer(request);
      const installationId = token ? tokens.get(token)?.installationId : undefined;
      if (isApi && installationId !== undefined) counters.callsByInstallation[installationId] = (counters.callsByInstallation[installationId] ?? 0) + 1;
      if (reply.status === 304) counters.notModified++;
      // The Actions service answers with an ActivityId header (SS common_client.go logs it).
      send(res, { ...reply, headers: { ...(isApi ? rateHeaders(installationId) : {}), ...(isBroker ? { activityid: randomUUID() } : {}), ...reply.headers } });
    } catch (e) {
      send(res, error(500, e instanceof Error ? e.message : 'Server Error'));
    }
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const address = server.address();
  url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

  return {
    url,
    appId,
    privateKeyPem: keys.privateKeyPem,
    extraApps: apps.slice(1).map((a) => ({ appId: a.appId, privateKeyPem: a.keys.privateKeyPem })),
    model,
    deliveries,
    scaleSets,
    checkRuns: checkRuns.all,
    stats,
    setWebhook(webhookUrl, secret) {
      webhook.url = webhookUrl;
      webhook.secret = secret;
    },
    async stop() {
      clearInterval(sweeper);
      scaleSets.stop();
      model.stop();
      for (const runner of model.runners.values()) runner.waiter?.(undefined);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
