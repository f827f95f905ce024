import { createAppAuth } from '@octokit/auth-app';
import Bottleneck from 'bottleneck/light.js';
import { Octokit } from '@octokit/core';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import { RequestError } from '@octokit/request-error';
import { RunnerBusyError, RunnerGroupMissingError } from '../../errors';
import type { CheckRunInput, HookDelivery, Runner, RunnerScope, WorkflowJob, WorkflowRun } from '../../github/github-model';

/*
 * Everything the control plane says to GitHub, through Octokit: App auth (JWT → installation token, cached by
 * auth-app until shortly before it expires; one token per installation, not per call), retries of 5xx
 * (plugin-retry) and waits on rate limits (plugin-throttling honours `retry-after` and `x-ratelimit-reset`), a
 * configurable base URL (github.com, GHES, the simulator), and a hook that counts every call per operation.
 */

const checkRunFields = (c: CheckRunInput) => ({
  status: c.status,
  ...(c.status === 'completed' ? { conclusion: c.conclusion } : {}),
  output: { title: c.title.slice(0, 250), summary: c.summary },
});

export interface GitHubAppCredentials {
  readonly appId: number;
  readonly privateKey: string;
  /** REST API root: https://api.github.com, https://HOST/api/v3, or the simulator. */
  readonly baseUrl: string;
}

export interface GitHubClientOptions {
  /** Called once per HTTP request with its operation (`GET /orgs/{org}/actions/runners`) and status. */
  /** Every HTTP attempt: its route template, status, and the rate limit GitHub says is left (when it says). */
  readonly onCall?: (operation: string, status: number, rateLimitRemaining?: number) => void;
  /** Retries of a 5xx or a rate-limited request. */
  readonly retries?: number;
  /** Milliseconds per unit of back-off (plugin-retry) and per second of `retry-after` (plugin-throttling). */
  readonly retryAfterBaseValue?: number;
  /**
   * Minimum spacing of write requests (POST/PATCH/PUT/DELETE) per client. GitHub asks for a second between them
   * to stay clear of secondary rate limits (the default); the simulator needs none.
   */
  readonly writeSpacingMs?: number;
}

const RunnersOctokit = Octokit.plugin(retry, throttling);
type RunnersOctokit = InstanceType<typeof RunnersOctokit>;

/** The route prefix of a scope, as a template with its parameters (operations are counted by template). */
const scopeRoute = (scope: RunnerScope): { prefix: string; params: Record<string, string> } =>
  scope.kind === 'org'
    ? { prefix: '/orgs/{org}', params: { org: scope.org } }
    : { prefix: '/repos/{owner}/{repo}', params: { owner: scope.owner, repo: scope.repo } };
const scopeKey = (scope: RunnerScope) => (scope.kind === 'org' ? `org:${scope.org}` : `repo:${scope.owner}/${scope.repo}`).toLowerCase();

/** The web URL that names a scope to GitHub's runner-registration: github.com for the API, GHES's host, else the base. */
export function webBaseOf(apiBaseUrl: string): string {
  const base = apiBaseUrl.replace(/\/$/, '');
  if (/^https:\/\/api\.github\.com$/i.test(base)) return 'https://github.com';
  const ghes = /^(https?:\/\/[^/]+)\/api\/v3$/i.exec(base);
  return ghes ? ghes[1]! : base;
}

export class GitHubClient {
  private readonly installations = new Map<number, RunnersOctokit>();
  private readonly installationIds = new Map<string, number>();
  private readonly runnerGroupIds = new Map<string, number>();
  /** Conditional requests: the last ETag and body of each listed page. */
  private readonly pages = new Map<string, { etag: string; data: unknown }>();
  private appOctokit?: RunnersOctokit;
  private plainOctokit?: RunnersOctokit;
  /** Shared by this client's Octokits: the spacing of writes applies to the App as a whole. */
  private readonly writeLimiter: Bottleneck.Group;

  constructor(
    private readonly credentials: GitHubAppCredentials,
    private readonly options: GitHubClientOptions = {},
  ) {
    this.writeLimiter = new Bottleneck.Group({ id: 'runners-write', maxConcurrent: 1, minTime: options.writeSpacingMs ?? 1_000 });
  }

  /** The App's installation that covers this scope: looked up once, then cached. */
  async installationId(scope: RunnerScope): Promise<number> {
    const key = scopeKey(scope);
    const cached = this.installationIds.get(key);
    if (cached !== undefined) return cached;
    const { data } =
      scope.kind === 'org'
        ? await this.app().request('GET /orgs/{org}/installation', { org: scope.org })
        : await this.app().request('GET /repos/{owner}/{repo}/installation', { owner: scope.owner, repo: scope.repo });
    this.installationIds.set(key, data.id);
    return Number(data.id);
  }

  async generateJitConfig(
    installationId: number,
    scope: RunnerScope,
    runner: { name: string; labels: readonly string[]; runnerGroup?: string; workFolder?: string },
  ): Promise<{ runnerId: number; encodedJitConfig: string }> {
    // Repository runners have no groups: GitHub wants the default group's id (1) there.
    const runnerGroupId = scope.kind === 'org' ? await this.runnerGroupId(installationId, scope.org, runner.runnerGroup ?? 'Default') : 1;
    const { prefix, params } = scopeRoute(scope);
    const { data } = await this.installation(installationId).request(`POST ${prefix}/actions/runners/generate-jitconfig`, {
      ...params,
      name: runner.name,
      labels: [...runner.labels],
      runner_group_id: runnerGroupId,
      work_folder: runner.workFolder ?? '_work',
    });
    const body = data as { runner: Runner; encoded_jit_config: string };
    return { runnerId: body.runner.id, encodedJitConfig: body.encoded_jit_config };
  }

  /**
   * The scale-set API's door (actions/scaleset client.go, getActionsServiceAdminConnection): a registration token of
   * the scope, traded at `POST /actions/runner-registration` (`RemoteAuth`, the scope's web URL) for the Actions
   * service's URL and an admin token. GitHub answers 401/403 there for a while after a token is minted, so those are
   * retried too (ARC #3377, #3724), besides what plugin-retry retries.
   */
  async actionsServiceConnection(installationId: number, scope: RunnerScope): Promise<{ url: string; token: string }> {
    const { prefix, params } = scopeRoute(scope);
    const { data } = await this.installation(installationId).request(`POST ${prefix}/actions/runners/registration-token`, params);
    const registrationToken = (data as { token: string }).token;
    const configUrl = `${webBaseOf(this.credentials.baseUrl)}/${scope.kind === 'org' ? scope.org : `${scope.owner}/${scope.repo}`}`;
    const retries = this.options.retries ?? 3;
    for (let attempt = 0; ; attempt++) {
      try {
        // The body as `data`: a `url` parameter would be taken for the request's own URL.
        const response = await this.plain().request('POST /actions/runner-registration', {
          headers: { authorization: `RemoteAuth ${registrationToken}`, 'content-type': 'application/json' },
          data: JSON.stringify({ url: configUrl, runner_event: 'register' }),
        });
        const body = response.data as { url?: unknown; token?: unknown };
        if (typeof body.url !== 'string' || body.url === '' || typeof body.token !== 'string' || body.token === '')
          throw new Error('POST /actions/runner-registration answered without the Actions service url and token');
        return { url: body.url, token: body.token };
      } catch (error) {
        if (!(error instanceof RequestError && (error.status === 401 || error.status === 403)) || attempt >= retries) throw error;
        await new Promise((resolve) => setTimeout(resolve, (this.options.retryAfterBaseValue ?? 1_000) * 2 ** attempt));
      }
    }
  }

  async getRunner(installationId: number, scope: RunnerScope, runnerId: number): Promise<Runner | undefined> {
    try {
      const { prefix, params } = scopeRoute(scope);
      const { data } = await this.installation(installationId).request(`GET ${prefix}/actions/runners/{runner_id}`, { ...params, runner_id: runnerId });
      return data as Runner;
    } catch (error) {
      if (error instanceof RequestError && error.status === 404) return undefined;
      throw error;
    }
  }

  /** Every runner of the scope, page by page; unchanged pages cost a 304, which the rate limit does not count. */
  async listRunners(installationId: number, scope: RunnerScope): Promise<Runner[]> {
    const { prefix, params } = scopeRoute(scope);
    return this.listPages(
      this.installation(installationId),
      `GET ${prefix}/actions/runners`,
      params,
      `${installationId} ${scopeKey(scope)}`,
      (data: { runners: Runner[] }) => data.runners,
    );
  }

  /** The App's installations (conditional requests). */
  async listInstallations(): Promise<{ id: number; account: string; organization: boolean }[]> {
    type Installation = { id: number; account: { login?: string; type?: string } | null };
    const installations = await this.listPages(this.app(), 'GET /app/installations', {}, 'app', (data: Installation[]) => data);
    return installations.map((i) => {
      return { id: i.id, account: i.account?.login ?? '', organization: i.account?.type === 'Organization' };
    });
  }

  /** The repositories an installation covers. */
  async listRepositories(installationId: number): Promise<{ owner: string; repo: string }[]> {
    const repositories = await this.listPages(
      this.installation(installationId),
      'GET /installation/repositories',
      {},
      `${installationId}`,
      (data: { repositories: { name: string; owner: { login: string } }[] }) => data.repositories,
    );
    return repositories.map((r) => ({ owner: r.owner.login, repo: r.name }));
  }

  /** A repository's workflow runs in this status, newest first, at most `limit` (conditional requests). */
  async listWorkflowRuns(installationId: number, owner: string, repo: string, status: 'queued' | 'in_progress', limit = 100): Promise<WorkflowRun[]> {
    return this.listPages(
      this.installation(installationId),
      'GET /repos/{owner}/{repo}/actions/runs',
      { owner, repo, status },
      `${installationId}`,
      (data: { workflow_runs: WorkflowRun[] }) => data.workflow_runs,
      limit,
    );
  }

  /** The jobs of a run's latest attempt (conditional requests). */
  async listRunJobs(installationId: number, owner: string, repo: string, runId: number): Promise<WorkflowJob[]> {
    return this.listPages(
      this.installation(installationId),
      'GET /repos/{owner}/{repo}/actions/runs/{run_id}/jobs',
      { owner, repo, run_id: runId, filter: 'latest' },
      `${installationId}`,
      (data: { jobs: WorkflowJob[] }) => data.jobs,
    );
  }

  /** The runner of this name in the scope, if registered (GitHub filters the list by name). */
  async findRunnerByName(installationId: number, scope: RunnerScope, name: string): Promise<Runner | undefined> {
    const { prefix, params } = scopeRoute(scope);
    const { data } = await this.installation(installationId).request(`GET ${prefix}/actions/runners`, { ...params, name, per_page: 100 });
    return (data as { runners: Runner[] }).runners.find((runner) => runner.name === name);
  }

  /** Deletes a runner registration; absent counts as done. Throws RunnerBusyError when GitHub says it is busy. */
  async deleteRunner(installationId: number, scope: RunnerScope, runnerId: number): Promise<'deleted' | 'absent'> {
    try {
      const { prefix, params } = scopeRoute(scope);
      await this.installation(installationId).request(`DELETE ${prefix}/actions/runners/{runner_id}`, { ...params, runner_id: runnerId });
      return 'deleted';
    } catch (error) {
      if (error instanceof RequestError && error.status === 404) return 'absent';
      if (error instanceof RequestError && error.status === 422) throw new RunnerBusyError(runnerId, { cause: error });
      throw error;
    }
  }

  /**
   * One job, asked with the ETag of its last answer (a job the reconciler watches is mostly unchanged: a 304, not
   * counted against the rate limit). A completed job is final: its entry is dropped.
   */
  async getJob(installationId: number, owner: string, repo: string, jobId: number): Promise<WorkflowJob | undefined> {
    const key = `job ${installationId} ${owner}/${repo} ${jobId}`;
    const cached = this.pages.get(key) as { etag: string; data: WorkflowJob } | undefined;
    try {
      const response = await this.installation(installationId).request('GET /repos/{owner}/{repo}/actions/jobs/{job_id}', {
        owner,
        repo,
        job_id: jobId,
        headers: cached ? { 'if-none-match': cached.etag } : {},
      });
      if (response.data.status === 'completed') this.pages.delete(key);
      else if (response.headers.etag) this.pages.set(key, { etag: response.headers.etag, data: response.data });
      return response.data;
    } catch (error) {
      if (error instanceof RequestError && error.status === 304 && cached) return cached.data;
      if (error instanceof RequestError && error.status === 404) return undefined;
      throw error;
    }
  }

  /**
   * The App's webhook deliveries, newest first, down to `since` (or `limit` of them, or the first one `stopAt` accepts:
   * what the caller has read before): every page GitHub's cursor gives.
   */
  async listDeliveries(options: { since?: Date; limit?: number; stopAt?: (delivery: HookDelivery) => boolean } = {}): Promise<HookDelivery[]> {
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    const out: HookDelivery[] = [];
    let cursor: string | undefined;
    while (out.length < limit) {
      const response = await this.app().request('GET /app/hook/deliveries', { per_page: 100, ...(cursor ? { cursor } : {}) });
      for (const delivery of response.data) {
        if (options.since && Date.parse(delivery.delivered_at) < options.since.getTime()) return out;
        if (options.stopAt?.(delivery)) return out;
        out.push(delivery);
      }
      cursor = /[?&]cursor=([^&>]+)[^>]*>;\s*rel="next"/.exec(response.headers.link ?? '')?.[1];
      if (!cursor) break;
    }
    return out.slice(0, limit);
  }

  /** Re-runs one job of a workflow run (a new attempt: a new job id, queued). The App needs Actions: write. */
  async rerunJob(installationId: number, owner: string, repo: string, jobId: number): Promise<void> {
    await this.installation(installationId).request('POST /repos/{owner}/{repo}/actions/jobs/{job_id}/rerun', { owner, repo, job_id: jobId });
  }

  /** A check run on a commit (the App needs Checks: write); its id. */
  async createCheckRun(
    installationId: number,
    owner: string,
    repo: string,
    checkRun: CheckRunInput & { readonly name: string; readonly headSha: string; readonly externalId?: string },
  ): Promise<number> {
    const { data } = await this.installation(installationId).request('POST /repos/{owner}/{repo}/check-runs', {
      owner,
      repo,
      name: checkRun.name,
      head_sha: checkRun.headSha,
      ...(checkRun.externalId ? { external_id: checkRun.externalId } : {}),
      ...checkRunFields(checkRun),
    });
    return Number(data.id);
  }

  async updateCheckRun(installationId: number, owner: string, repo: string, checkRunId: number, checkRun: CheckRunInput): Promise<void> {
    await this.installation(installationId).request('PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}', {
      owner,
      repo,
      check_run_id: checkRunId,
      ...checkRunFields(checkRun),
    });
  }

  /** Cancels a workflow run (GitHub cancels runs, not single jobs). The App needs Actions: write. */
  async cancelWorkflowRun(installationId: number, owner: string, repo: string, runId: number): Promise<void> {
    await this.installation(installationId).request('POST /repos/{owner}/{repo}/actions/runs/{run_id}/cancel', { owner, repo, run_id: runId });
  }

  async redeliver(deliveryId: number): Promise<void> {
    await this.app().request('POST /app/hook/deliveries/{delivery_id}/attempts', { delivery_id: deliveryId });
  }

  private async runnerGroupId(installationId: number, org: string, name: string): Promise<number> {
    const key = `${org}/${name}`.toLowerCase();
    const cached = this.runnerGroupIds.get(key);
    if (cached !== undefined) return cached;
    const { data } = await this.installation(installationId).request('GET /orgs/{org}/actions/runner-groups', { org, per_page: 100 });
    const group = data.runner_groups.find((g) => g.name.toLowerCase() === name.toLowerCase());
    if (!group) throw new RunnerGroupMissingError(name, org);
    this.runnerGroupIds.set(key, group.id);
    return group.id;
  }

  /**
   * A list endpoint, page by page (100 per page) until `total_count` or `limit`. Each page is asked with the ETag of
   * its last answer: an unchanged page costs a 304, which GitHub does not count against the rate limit.
   */
  private async listPages<T, D>(
    octokit: RunnersOctokit,
    route: string,
    params: Record<string, unknown>,
    cacheKey: string,
    itemsOf: (data: D) => T[],
    limit = Number.POSITIVE_INFINITY,
  ): Promise<T[]> {
    const items: T[] = [];
    for (let page = 1; ; page++) {
      const key = `${route} ${JSON.stringify(params)} ${cacheKey} ${page}`;
      const cached = this.pages.get(key);
      let data: D;
      try {
        const response = await octokit.request(route, { ...params, per_page: 100, page, headers: cached ? { 'if-none-match': cached.etag } : {} });
        data = response.data as D;
        const etag = response.headers.etag;
        if (etag) this.pages.set(key, { etag, data });
      } catch (error) {
        if (!(error instanceof RequestError && error.status === 304 && cached)) throw error;
        data = cached.data as D;
      }
      const pageItems = itemsOf(data);
      items.push(...pageItems);
      if (pageItems.length < 100 || items.length >= ((data as { total_count?: number }).total_count ?? Number.POSITIVE_INFINITY) || items.length >= limit)
        return items.slice(0, limit);
    }
  }

  /** An Octokit without App auth, for the one request that carries its own credential (runner-registration). */
  private plain(): RunnersOctokit {
    this.plainOctokit ??= this.octokit(undefined);
    return this.plainOctokit;
  }

  private app(): RunnersOctokit {
    this.appOctokit ??= this.octokit({ appId: this.credentials.appId, privateKey: this.credentials.privateKey });
    return this.appOctokit;
  }

  /** One Octokit per installation: auth-app caches that installation's token and renews it before it expires. */
  private installation(installationId: number): RunnersOctokit {
    let octokit = this.installations.get(installationId);
    if (!octokit) {
      octokit = this.octokit({ appId: this.credentials.appId, privateKey: this.credentials.privateKey, installationId });
      this.installations.set(installationId, octokit);
    }
    return octokit;
  }

  private octokit(auth: { appId: number; privateKey: string; installationId?: number } | undefined): RunnersOctokit {
    const retries = this.options.retries ?? 3;
    const onCall = this.options.onCall;
    // Every HTTP attempt (retries included) is counted at the fetch layer, under the operation's route template,
    // which an outer hook notes once per request before plugin-retry and plugin-throttling repeat it.
    const operations = new Map<string, string>();
    const countingFetch: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      const method = (init?.method ?? 'GET').toUpperCase();
      const path = new URL(String(input instanceof Request ? input.url : input)).pathname;
      const remaining = response.headers.get('x-ratelimit-remaining');
      onCall?.(operations.get(`${method} ${path}`) ?? `${method} ${path}`, response.status, remaining === null ? undefined : Number(remaining));
      return response;
    };
    const octokit = new RunnersOctokit({
      baseUrl: this.credentials.baseUrl.replace(/\/$/, ''),
      request: onCall ? { fetch: countingFetch } : {},
      ...(auth ? { authStrategy: createAppAuth, auth } : {}),
      retry: { retries, retryAfterBaseValue: this.options.retryAfterBaseValue ?? 1_000 },
      throttle: {
        retryAfterBaseValue: this.options.retryAfterBaseValue ?? 1_000,
        write: this.writeLimiter,
        // Wait and retry a few times; past that the caller's own retry (an SQS redelivery) takes over.
        onRateLimit: (_retryAfter, _options, _octokit, retryCount) => retryCount < retries,
        onSecondaryRateLimit: (_retryAfter, _options, _octokit, retryCount) => retryCount < retries,
      },
    });
    if (onCall) {
      octokit.hook.before('request', (options) => {
        const endpoint = octokit.request.endpoint(options);
        operations.set(`${endpoint.method} ${new URL(endpoint.url).pathname}`, `${options.method} ${options.url}`);
      });
    }
    return octokit;
  }
}
