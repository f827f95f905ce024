import { RunnerBusyError } from '../../errors';
import { exceptionOf, MessageQueueTokenExpiredError, ScaleSetApiError } from './scale-set-errors';
import { parseScaleSetMessage, scaleSetSchema, sessionSchema, type ScaleSet, type ScaleSetMessage, type SessionData } from './scale-set-messages';

/*
 * A client of GitHub's runner scale-set protocol, written from what actions/scaleset (Go, v0.4.0, MIT) and GitHub's
 * docs say of it; no maintained TypeScript client exists (npm has none; biw/scaleset is unpublished and needs Node 24).
 *
 * - The Actions service is reached through the App: `connect` (GitHubClient.actionsServiceConnection) trades a
 *   registration token for the service's URL and an admin token (a JWT), which is traded again shortly before its
 *   `exp` — one minute, as actions/scaleset client.go updateTokenIfNeeded does before every request.
 * - Every admin path gets `api-version=6.0-preview`; the message queue gets it in `Accept` instead.
 * - Retries (actions/scaleset common_client.go, go-retryablehttp's policy): network errors, 429 and 5xx but 501, up
 *   to 4 times, 1/2/4/8 s (capped at 30 s), `Retry-After` honoured. Other statuses are the caller's to handle.
 * - A 401 of the message queue means its token expired: the session is refreshed and the call tried once more.
 */

export interface ActionsServiceOptions {
  /** App → registration token → `POST /actions/runner-registration`: the service's URL and an admin token. */
  readonly connect: () => Promise<{ url: string; token: string }>;
  readonly fetch?: typeof fetch;
  /** Retries of a network error, 429 or 5xx (4). */
  readonly retries?: number;
  /** First back-off (1 s); doubles per retry up to `retryMaxMs` (30 s). */
  readonly retryBaseMs?: number;
  readonly retryMaxMs?: number;
  /** Every HTTP attempt: its operation and status (0: no answer). */
  readonly onCall?: (operation: string, status: number) => void;
  readonly userAgent?: string;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface ScaleSetSpec {
  readonly name: string;
  readonly runnerGroupId: number;
  /** Label names; the scale set's name is its first label (as ARC does), typed `System`. */
  readonly labels: readonly string[];
}

export interface JitRunnerConfig {
  readonly runnerId: number;
  readonly runnerName: string;
  readonly encodedJitConfig: string;
}

const API_VERSION = '6.0-preview';
const SCALE_SETS = '_apis/runtime/runnerscalesets';
const AGENTS = '_apis/distributedtask/pools/0/agents';
/** Refresh the admin token when it has less than this left (actions/scaleset client.go). */
const ADMIN_TOKEN_MARGIN_MS = 60_000;

interface Answer {
  readonly status: number;
  readonly body: unknown;
  readonly headers: Headers;
}

class Http {
  constructor(private readonly options: ActionsServiceOptions) {}

  /** One request with the retry policy above; the answer whatever its status (the caller decides). */
  async send(operation: string, url: string, init: RequestInit & { signal?: AbortSignal }): Promise<Answer> {
    const retries = this.options.retries ?? 4;
    const sleep = this.options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
    const headers = { 'user-agent': this.options.userAgent ?? 'ephemeral-runners scale-set listener', ...(init.headers as Record<string, string>) };
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        response = await (this.options.fetch ?? fetch)(url, { ...init, headers });
      } catch (error) {
        this.options.onCall?.(operation, 0);
        if (init.signal?.aborted || attempt >= retries) throw error;
        await sleep(this.backoff(attempt));
        continue;
      }
      this.options.onCall?.(operation, response.status);
      const retryable = response.status === 429 || (response.status >= 500 && response.status !== 501);
      if (retryable && attempt < retries && !init.signal?.aborted) {
        await response.body?.cancel();
        await sleep(this.backoff(attempt, response.headers.get('retry-after')));
        continue;
      }
      // actions/scaleset common_client.go trimByteOrderMark: answers may start with a UTF-8 BOM.
      const text = (await response.text()).replace(/^\uFEFF/, '');
      let body: unknown = text;
      if (text !== '') {
        try {
          body = JSON.parse(text);
        } catch {
          // plain text (errors sometimes are)
        }
      }
      return { status: response.status, body, headers: response.headers };
    }
  }

  private backoff(attempt: number, retryAfter?: string | null): number {
    const max = this.options.retryMaxMs ?? 30_000;
    if (retryAfter) {
      const seconds = Number(retryAfter);
      const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(retryAfter) - Date.now();
      if (Number.isFinite(ms) && ms >= 0) return Math.min(ms, max);
    }
    return Math.min((this.options.retryBaseMs ?? 1_000) * 2 ** attempt, max);
  }
}

/** The refusal an answer carries, as an error naming the operation and the service's exception. */
function refusal(operation: string, answer: Answer): ScaleSetApiError {
  const body = answer.body as { typeName?: unknown; message?: unknown } | string;
  const detail = typeof body === 'string' ? body.slice(0, 300) : typeof body?.message === 'string' ? body.message : JSON.stringify(body).slice(0, 300);
  const exception = typeof body === 'object' && body !== null ? exceptionOf(body.typeName) : undefined;
  return new ScaleSetApiError(operation, answer.status, exception, detail || '(no body)', answer.headers.get('activityid') ?? undefined);
}

/** `exp` of a JWT, read without verifying it (the service verifies; we only plan the refresh). */
function expiryOf(jwt: string): number {
  try {
    const payload = JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof payload.exp === 'number' ? payload.exp * 1000 : 0;
  } catch {
    return 0;
  }
}

export class ActionsService {
  private admin?: { url: string; token: string; expiresAt: number };
  private readonly http: Http;
  private readonly now: () => number;

  constructor(private readonly options: ActionsServiceOptions) {
    this.http = new Http(options);
    this.now = options.now ?? Date.now;
  }

  /** GitHub's default runner group is 1 without a lookup (actions/scaleset examples, ARC); others by name. */
  async runnerGroupId(name: string | undefined): Promise<number> {
    if (name === undefined || name.toLowerCase() === 'default') return 1;
    const answer = await this.request('GET runnergroups', 'GET', `_apis/runtime/runnergroups/`, { query: { groupName: name } });
    const groups = (answer.body as { value?: { id: number; name: string }[] }).value ?? [];
    if (groups.length !== 1)
      throw new ScaleSetApiError('GET runnergroups', answer.status, undefined, `runner group "${name}" not found (${groups.length} matched)`);
    return groups[0]!.id;
  }

  async scaleSetByName(runnerGroupId: number, name: string): Promise<ScaleSet | undefined> {
    const answer = await this.request('GET runnerscalesets', 'GET', SCALE_SETS, { query: { runnerGroupId: String(runnerGroupId), name } });
    const { value = [] } = answer.body as { value?: unknown[] };
    if (value.length > 1) throw new ScaleSetApiError('GET runnerscalesets', answer.status, undefined, `${value.length} scale sets are named "${name}"`);
    return value.length === 0 ? undefined : scaleSetSchema.parse(value[0]);
  }

  /** The scale set, or undefined when GitHub deleted it. */
  async scaleSet(id: number): Promise<ScaleSet | undefined> {
    try {
      return scaleSetSchema.parse((await this.request('GET runnerscalesets/{id}', 'GET', `${SCALE_SETS}/${id}`)).body);
    } catch (error) {
      if (error instanceof ScaleSetApiError && error.status === 404) return undefined;
      throw error;
    }
  }

  async createScaleSet(spec: ScaleSetSpec): Promise<ScaleSet> {
    const body = {
      name: spec.name,
      runnerGroupId: spec.runnerGroupId,
      labels: labelsOf(spec),
      // actions/scaleset types.go spells it with a capital R; runners of a scale set are ephemeral by default.
      RunnerSetting: { disableUpdate: true },
    };
    return scaleSetSchema.parse((await this.request('POST runnerscalesets', 'POST', SCALE_SETS, { body })).body);
  }

  async updateScaleSet(id: number, spec: ScaleSetSpec): Promise<ScaleSet> {
    const body = { name: spec.name, runnerGroupId: spec.runnerGroupId, labels: labelsOf(spec) };
    return scaleSetSchema.parse((await this.request('PATCH runnerscalesets/{id}', 'PATCH', `${SCALE_SETS}/${id}`, { body })).body);
  }

  async deleteScaleSet(id: number): Promise<void> {
    await this.request('DELETE runnerscalesets/{id}', 'DELETE', `${SCALE_SETS}/${id}`);
  }

  /**
   * The scale set of this spec, as it should be: found by name in its group (names are unique there), created when
   * absent (first use, or GitHub deleted it), its labels put right when they differ.
   */
  async ensureScaleSet(spec: ScaleSetSpec): Promise<ScaleSet> {
    const found = await this.scaleSetByName(spec.runnerGroupId, spec.name);
    if (!found) return this.createScaleSet(spec);
    const want = labelsOf(spec)
      .map((l) => l.name.toLowerCase())
      .sort();
    const have = found.labels.map((l) => l.name.toLowerCase()).sort();
    return want.join('\n') === have.join('\n') ? found : this.updateScaleSet(found.id, spec);
  }

  /** A JIT runner of the scale set: it takes any job GitHub assigned to the scale set. */
  async generateJitConfig(scaleSetId: number, name: string, workFolder = ''): Promise<JitRunnerConfig> {
    const answer = await this.request('POST runnerscalesets/{id}/generatejitconfig', 'POST', `${SCALE_SETS}/${scaleSetId}/generatejitconfig`, {
      body: { name, workFolder },
    });
    const body = answer.body as { runner?: { id?: unknown; name?: unknown }; encodedJITConfig?: unknown };
    if (typeof body.runner?.id !== 'number' || typeof body.encodedJITConfig !== 'string' || body.encodedJITConfig === '')
      throw new ScaleSetApiError('POST runnerscalesets/{id}/generatejitconfig', answer.status, undefined, 'answer without runner id or encodedJITConfig');
    return { runnerId: body.runner.id, runnerName: typeof body.runner.name === 'string' ? body.runner.name : name, encodedJitConfig: body.encodedJITConfig };
  }

  async runnerByName(name: string): Promise<{ id: number; name: string; runnerScaleSetId?: number } | undefined> {
    const answer = await this.request('GET agents', 'GET', AGENTS, { query: { agentName: name } });
    const { value = [] } = answer.body as { value?: { id: number; name: string; runnerScaleSetId?: number }[] };
    return value[0];
  }

  /** Deregisters a runner; GitHub refuses a busy one (RunnerBusyError). */
  async removeRunner(runnerId: number): Promise<'removed' | 'absent'> {
    try {
      await this.request('DELETE agents/{id}', 'DELETE', `${AGENTS}/${runnerId}`);
      return 'removed';
    } catch (error) {
      if (error instanceof ScaleSetApiError && (error.is('AgentNotFoundException') || error.status === 404)) return 'absent';
      if (error instanceof ScaleSetApiError && error.is('JobStillRunningException')) throw new RunnerBusyError(runnerId, { cause: error });
      throw error;
    }
  }

  /**
   * Opens the scale set's message session. One per scale set: while another is open GitHub answers 409
   * (RunnerScaleSetSessionConflictException), which the caller waits out or ends (deleteSession) when it knows that
   * session's owner is gone.
   */
  async openSession(scaleSetId: number, ownerName: string): Promise<MessageSession> {
    const answer = await this.request('POST runnerscalesets/{id}/sessions', 'POST', `${SCALE_SETS}/${scaleSetId}/sessions`, { body: { ownerName } });
    return new MessageSession(this, this.http, scaleSetId, sessionSchema.parse(answer.body));
  }

  /** Ends a session by id (ours, or a crashed predecessor's); one already gone is fine. */
  async deleteSession(scaleSetId: number, sessionId: string): Promise<'deleted' | 'absent'> {
    try {
      await this.request('DELETE runnerscalesets/{id}/sessions/{sessionId}', 'DELETE', `${SCALE_SETS}/${scaleSetId}/sessions/${sessionId}`);
      return 'deleted';
    } catch (error) {
      if (error instanceof ScaleSetApiError && (error.status === 404 || error.is('RunnerScaleSetSessionExpiredException'))) return 'absent';
      throw error;
    }
  }

  /** @internal the session's refresh: a new queue token and statistics. */
  async refreshSession(scaleSetId: number, sessionId: string): Promise<SessionData> {
    const answer = await this.request('PATCH runnerscalesets/{id}/sessions/{sessionId}', 'PATCH', `${SCALE_SETS}/${scaleSetId}/sessions/${sessionId}`);
    return sessionSchema.parse(answer.body);
  }

  /** @internal an admin request (the admin token, unless `bearer` overrides it); a non-2xx answer throws. */
  async request(
    operation: string,
    method: string,
    path: string,
    extra: { query?: Record<string, string>; body?: unknown; bearer?: string } = {},
  ): Promise<Answer> {
    const send = async () => {
      const admin = await this.adminConnection();
      const url = new URL(path, admin.url.endsWith('/') ? admin.url : `${admin.url}/`);
      for (const [key, value] of Object.entries(extra.query ?? {})) url.searchParams.set(key, value);
      if (!url.searchParams.has('api-version')) url.searchParams.set('api-version', API_VERSION);
      return this.http.send(operation, url.toString(), {
        method,
        headers: { authorization: `Bearer ${extra.bearer ?? admin.token}`, 'content-type': 'application/json' },
        ...(extra.body === undefined ? {} : { body: JSON.stringify(extra.body) }),
      });
    };
    let answer = await send();
    // An admin token refused before its exp (revoked, or a clock apart): connected again once. actions/scaleset only
    // refreshes ahead of exp, and its listener then dies on the 401. (A queue token's 401 is the session's to handle.)
    if (answer.status === 401 && extra.bearer === undefined) {
      this.admin = undefined;
      answer = await send();
    }
    if (answer.status >= 300) throw refusal(operation, answer);
    return answer;
  }

  private async adminConnection(): Promise<{ url: string; token: string }> {
    if (!this.admin || this.now() + ADMIN_TOKEN_MARGIN_MS > this.admin.expiresAt) {
      const { url, token } = await this.options.connect();
      this.admin = { url, token, expiresAt: expiryOf(token) };
    }
    return this.admin;
  }
}

const labelsOf = (spec: ScaleSetSpec) =>
  [...new Map([spec.name, ...spec.labels].map((name) => [name.toLowerCase(), name])).values()].map((name) => ({ type: 'System', name }));

/** One open message session of a scale set: its queue, the acknowledgements, acquiring jobs. */
export class MessageSession {
  constructor(
    private readonly service: ActionsService,
    private readonly http: Http,
    readonly scaleSetId: number,
    private data: SessionData,
  ) {}

  get sessionId(): string {
    return this.data.sessionId;
  }

  /** The statistics the session was opened or last refreshed with. */
  get statistics(): SessionData['statistics'] {
    return this.data.statistics;
  }

  /**
   * The next message after `lastMessageId` (0: the first not acknowledged), or undefined when the service held the
   * poll (~50 s) and had none (202). `maxCapacity` tells GitHub how many jobs the scale set may be given at once.
   */
  async nextMessage(options: { lastMessageId: number; maxCapacity: number; signal?: AbortSignal }): Promise<ScaleSetMessage | undefined> {
    const answer = await this.onQueue('GET message', (token) => {
      const url = new URL(this.data.messageQueueUrl);
      if (options.lastMessageId > 0) url.searchParams.set('lastMessageId', String(options.lastMessageId));
      return this.http.send('GET message', url.toString(), {
        method: 'GET',
        headers: {
          authorization: `Bearer ${token}`,
          accept: `application/json; api-version=${API_VERSION}`,
          'x-scalesetmaxcapacity': String(options.maxCapacity),
        },
        ...(options.signal ? { signal: options.signal } : {}),
      });
    });
    if (answer.status === 202) return undefined;
    if (answer.status !== 200) throw refusal('GET message', answer);
    return parseScaleSetMessage(answer.body);
  }

  /** Acknowledges a message: it will not come back. */
  async deleteMessage(messageId: number): Promise<void> {
    const answer = await this.onQueue('DELETE message', (token) => {
      const url = new URL(this.data.messageQueueUrl);
      url.pathname = `${url.pathname.replace(/\/$/, '')}/${messageId}`;
      return this.http.send('DELETE message', url.toString(), {
        method: 'DELETE',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      });
    });
    if (answer.status >= 300) throw refusal('DELETE message', answer);
  }

  /** Takes available jobs for the scale set (GHES sends JobAvailable and waits for this); the ids it got. */
  async acquireJobs(runnerRequestIds: readonly number[]): Promise<number[]> {
    if (runnerRequestIds.length === 0) return [];
    const answer = await this.onQueue('POST acquirejobs', async (token) => {
      try {
        return await this.service.request('POST runnerscalesets/{id}/acquirejobs', 'POST', `${SCALE_SETS}/${this.scaleSetId}/acquirejobs`, {
          body: [...runnerRequestIds],
          bearer: token,
        });
      } catch (error) {
        if (error instanceof ScaleSetApiError && error.status === 401) return { status: 401, body: undefined, headers: new Headers() };
        throw error;
      }
    });
    return ((answer.body as { value?: number[] }).value ?? []).filter((id) => typeof id === 'number');
  }

  /** A new queue token and fresh statistics. */
  async refresh(): Promise<void> {
    this.data = await this.service.refreshSession(this.scaleSetId, this.data.sessionId);
  }

  /** Deletes the session, so that another listener may open one at once. */
  async close(): Promise<void> {
    await this.service.deleteSession(this.scaleSetId, this.data.sessionId);
  }

  /** A call on the queue; a 401 (the queue token expired) refreshes the session and tries once more. */
  private async onQueue(operation: string, call: (token: string) => Promise<Answer>): Promise<Answer> {
    const first = await call(this.data.messageQueueAccessToken);
    if (first.status !== 401) return first;
    await this.refresh();
    const second = await call(this.data.messageQueueAccessToken);
    if (second.status === 401) throw new MessageQueueTokenExpiredError(operation);
    return second;
  }
}
