import { afterEach, describe, expect, it } from '@jest/globals';
import { createAppAuth } from '@octokit/auth-app';
import { request } from '@octokit/request';
import type { SimJob, SimRunner } from '../../sim/model';
import type { JobMessage, ScaleSetTiming, ScaleSetView } from '../../sim/scale-sets';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../sim/server';
import { runSimulatedRunner, simControl, waitUntil } from '../helpers/simulator';

/*
 * The simulator's runner scale set protocol (actions/scaleset, actions-runner-controller): the auth chain, scale sets,
 * message sessions, the long-polled message queue, acquire, JIT runners, and GitHub's assignment to scale sets with
 * its capacity, withdrawals and deletions. Raw fetch against the simulator, as a client would speak it.
 */

/** GitHub's clocks scaled down. */
const TIMING: Partial<ScaleSetTiming> = {
  longPollMs: 300,
  sessionIdleReapMs: 600,
  assignTimeoutMs: 60_000,
  requeueDelayMs: 100,
  maxWithdrawals: 3,
  adminTokenTtlMs: 60_000,
  messageQueueTokenTtlMs: 60_000,
};

interface Session {
  sessionId: string;
  ownerName: string;
  messageQueueUrl: string;
  messageQueueAccessToken: string;
  runnerScaleSet: { id: number; name: string };
  statistics: Record<string, number>;
}
interface Envelope {
  messageId: number;
  messageType: string;
  body: string;
  statistics: Record<string, number>;
}
/** The fields of JSON replies the tests read (undefined when there is no body); the assertions check the rest. */
interface Body {
  id: number;
  url: string;
  token: string;
  message: string;
  typeName: string;
  createdOn: string;
  encodedJITConfig: string;
  runner: { id: number };
}
interface Reply<T = Body> {
  status: number;
  body: T;
  headers: Headers;
}
type Jobs = { runId: number; jobs: { id: number; name: string }[] };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

async function read<T = Body>(response: Response): Promise<Reply<T>> {
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T, headers: response.headers };
}

describe('the simulator speaks the runner scale set protocol', () => {
  const stops: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const stop of stops.splice(0)) await stop();
  });

  async function start(options: SimulatorOptions = {}) {
    const sim: Simulator = await startSimulator({
      accounts: ['octo-org', 'other-org'],
      ...options,
      timing: { assignDelayMs: 0, ...options.timing },
      scaleSets: { ...TIMING, ...options.scaleSets },
    });
    stops.push(() => sim.stop());
    const auth = createAppAuth({ appId: sim.appId, privateKey: sim.privateKeyPem, request: request.defaults({ baseUrl: sim.url }) });
    const { token: installationToken } = await auth({ type: 'installation', installationId: 1000 });
    const rest = async (method: string, path: string, body?: unknown) =>
      read(
        await fetch(`${sim.url}${path}`, {
          method,
          headers: { authorization: `token ${installationToken}`, 'content-type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
        }),
      );
    const registrationToken = async (scopePath = '/orgs/octo-org') => {
      const reply = await rest('POST', `${scopePath}/actions/runners/registration-token`);
      expect(reply.status).toBe(201);
      return reply.body as Body & { expires_at: string };
    };
    const register = async (token: string | undefined, configUrl: string) =>
      read(
        await fetch(`${sim.url}/actions/runner-registration`, {
          method: 'POST',
          headers: { ...(token ? { authorization: `RemoteAuth ${token}` } : {}), 'content-type': 'application/json' },
          // As Go's encoder writes it: a trailing newline.
          body: `${JSON.stringify({ url: configUrl, runner_event: 'register' })}\n`,
        }),
      );
    /** The whole chain: registration token → runner-registration → the Actions service client. */
    const connect = async (scopePath = '/orgs/octo-org', configUrl = 'https://github.com/octo-org') => {
      const { token } = await registrationToken(scopePath);
      const reply = await register(token, configUrl);
      expect(reply.status).toBe(201);
      return broker(reply.body.url as string, reply.body.token as string);
    };
    const queue = (labels: string[], options: { matrix?: number; durationMs?: number; repo?: string } = {}) =>
      simControl<Jobs>(sim, 'POST', '/_sim/runs', {
        owner: 'octo-org',
        repo: options.repo ?? 'app',
        jobs: [{ name: 'build', labels, matrix: options.matrix ?? 1, durationMs: options.durationMs ?? 100 }],
      });
    const view = (id: number) => sim.scaleSets.inspect().find((s) => s.id === id) as ScaleSetView;
    return { sim, rest, registrationToken, register, connect, queue, view };
  }

  function broker(base: string, adminToken: string) {
    const call = async <T = Body>(
      method: string,
      path: string,
      body?: unknown,
      options: { bearer?: string; version?: string | null; query?: Record<string, string> } = {},
    ) => {
      const target = new URL(path, base);
      for (const [k, v] of Object.entries(options.query ?? {})) target.searchParams.set(k, v);
      if (options.version !== null) target.searchParams.set('api-version', options.version ?? '6.0-preview');
      return read<T>(
        await fetch(target, {
          method,
          headers: { authorization: `Bearer ${options.bearer ?? adminToken}`, 'content-type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
        }),
      );
    };
    const sets = '_apis/runtime/runnerscalesets';
    const api = {
      base,
      adminToken,
      call,
      createScaleSet: (name: string, labels: string[] = []) =>
        call('POST', sets, {
          name,
          runnerGroupId: 1,
          labels: labels.map((l) => ({ type: 'System', name: l })),
          RunnerSetting: { disableUpdate: true },
          createdOn: '0001-01-01T00:00:00Z',
        }),
      scaleSet: async (name: string, labels: string[] = []) => {
        const reply = await api.createScaleSet(name, labels);
        expect(reply.status).toBe(200);
        return reply.body as Body & { name: string };
      },
      createSession: (id: number, ownerName = 'listener-1') =>
        call<Session & Body>('POST', `${sets}/${id}/sessions`, { sessionId: '00000000-0000-0000-0000-000000000000', ownerName }),
      session: async (id: number, ownerName = 'listener-1') => {
        const reply = await api.createSession(id, ownerName);
        expect(reply.status).toBe(200);
        return reply.body as Session;
      },
      refresh: (id: number, sessionId: string) => call<Session & Body>('PATCH', `${sets}/${id}/sessions/${sessionId}`),
      deleteSession: (id: number, sessionId: string) => call('DELETE', `${sets}/${id}/sessions/${sessionId}`),
      jit: (id: number, name: string) => call('POST', `${sets}/${id}/generatejitconfig`, { name, workFolder: '' }),
      acquire: (id: number, ids: number[], bearer: string) => call('POST', `${sets}/${id}/acquirejobs`, ids, { bearer }),
    };
    return api;
  }

  /** GET {messageQueueUrl}, as SS session_client.go sends it. */
  async function poll(session: Session, capacity: number | null = 10, lastMessageId = 0, headers: Record<string, string> = {}) {
    const target = new URL(session.messageQueueUrl);
    if (lastMessageId > 0) target.searchParams.set('lastMessageId', String(lastMessageId));
    const reply = await read<Envelope & Body>(
      await fetch(target, {
        headers: {
          authorization: `Bearer ${session.messageQueueAccessToken}`,
          accept: 'application/json; api-version=6.0-preview',
          ...(capacity === null ? {} : { 'x-scalesetmaxcapacity': String(capacity) }),
          ...headers,
        },
      }),
    );
    const envelope = reply.status === 200 ? (reply.body as Envelope) : undefined;
    return { ...reply, envelope, jobs: envelope?.body ? (JSON.parse(envelope.body) as JobMessage[]) : [] };
  }
  const ack = async (session: Session, messageId: number) =>
    read(await fetch(`${session.messageQueueUrl}/${messageId}`, { method: 'DELETE', headers: { authorization: `Bearer ${session.messageQueueAccessToken}` } }));

  /** A listener: poll with `capacity`, ack each message, collect job messages until `done` or the time is up. */
  async function listen(session: Session, capacity: number, done: (all: JobMessage[]) => boolean, timeoutMs = 5_000) {
    const all: JobMessage[] = [];
    const deadline = Date.now() + timeoutMs;
    let last = 0;
    while (!done(all) && Date.now() < deadline) {
      const got = await poll(session, capacity, last);
      if (got.status === 202) continue;
      expect(got.status).toBe(200);
      all.push(...got.jobs);
      last = got.envelope!.messageId;
      expect((await ack(session, last)).status).toBe(204);
    }
    return all;
  }

  const claims = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as { exp: number };

  it('hands out the admin token through the registration token and runner-registration, refusing a wrong scope or a bad token', async () => {
    const { sim, registrationToken, register, rest, connect } = await start();
    const org = await registrationToken();
    expect(org.token).toMatch(/^[A-Z2-7]{29}$/);
    expect(Date.parse(org.expires_at) - Date.now()).toBeGreaterThan(3_590_000);

    const granted = await register(org.token, 'https://github.com/octo-org');
    expect(granted.status).toBe(201);
    expect(granted.body.url).toBe(`${sim.url}/broker/rest/`);
    // The admin token is a JWT whose exp claim a client reads without verifying.
    expect(claims(granted.body.token).exp * 1000 - Date.now()).toBeGreaterThan(55_000);
    expect(claims(granted.body.token).exp * 1000 - Date.now()).toBeLessThanOrEqual(60_000);
    // The simulator's own URL is a web base too; the token may be used again within its hour.
    expect((await register(org.token, `${sim.url}/octo-org`)).status).toBe(201);

    // The config URL's scope must be the token's.
    expect((await register(org.token, 'https://github.com/other-org')).status).toBe(403);
    expect((await register(org.token, 'https://github.com/octo-org/app')).status).toBe(403);
    const repo = await registrationToken('/repos/octo-org/app');
    expect((await register(repo.token, 'https://github.com/octo-org/app')).status).toBe(201);
    expect((await register(repo.token, 'https://github.com/octo-org')).status).toBe(403);
    expect((await register(org.token, 'https://example.com/octo-org')).status).toBe(400);
    expect((await register(org.token, 'https://github.com/a/b/c')).status).toBe(400);
    // Unknown token, no token, and the installation's token for another account.
    expect((await register('NOTATOKEN', 'https://github.com/octo-org')).status).toBe(401);
    expect((await register(undefined, 'https://github.com/octo-org')).status).toBe(401);
    expect((await rest('POST', '/orgs/other-org/actions/runners/registration-token')).status).toBe(403);
    expect(sim.stats().calls['POST /orgs/{owner}/actions/runners/registration-token']).toBe(2);
    expect(sim.stats().calls['POST /actions/runner-registration']).toBe(10);

    // The admin token opens the Actions service; a forged one does not; expired ones do not.
    const service = await connect();
    expect((await service.call('GET', '_apis/runtime/runnerscalesets')).status).toBe(200);
    const [h, p] = service.adminToken.split('.');
    expect((await service.call('GET', '_apis/runtime/runnerscalesets', undefined, { bearer: `${h}.${p}.AAAA` })).status).toBe(401);
    await simControl(sim, 'PUT', '/_sim/scale-sets/faults', { expireTokens: 'admin' });
    expect((await service.call('GET', '_apis/runtime/runnerscalesets')).status).toBe(401);

    await simControl(sim, 'PUT', '/_sim/scale-sets/timing', { adminTokenTtlMs: 200, registrationTokenTtlMs: 200 });
    const shortLived = await connect();
    const expiring = await registrationToken();
    expect((await shortLived.call('GET', '_apis/runtime/runnerscalesets')).status).toBe(200);
    await sleep(350);
    expect((await shortLived.call('GET', '_apis/runtime/runnerscalesets')).status).toBe(401);
    expect((await register(expiring.token, 'https://github.com/octo-org')).status).toBe(401);
  });

  it('creates (200), finds by name and id, updates and deletes (204) scale sets; names are unique in a runner group', async () => {
    const { connect } = await start();
    const service = await connect();
    const created = await service.createScaleSet('arc-linux');
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({
      id: expect.any(Number),
      name: 'arc-linux',
      runnerGroupId: 1,
      runnerGroupName: 'Default',
      // No labels given: the scale set's name, a System label.
      labels: [{ type: 'System', name: 'arc-linux' }],
      RunnerSetting: { disableUpdate: true },
      runnerJitConfigUrl: `${service.base}_apis/runtime/runnerscalesets/${created.body.id}/generatejitconfig`,
      statistics: { totalAvailableJobs: 0, totalAssignedJobs: 0, totalRegisteredRunners: 0 },
    });
    expect(Number.isNaN(Date.parse(created.body.createdOn))).toBe(false);
    const id = created.body.id as number;

    const byName = await service.call('GET', '_apis/runtime/runnerscalesets', undefined, { query: { runnerGroupId: '1', name: 'arc-linux' } });
    expect(byName.body).toMatchObject({ count: 1, value: [{ id, name: 'arc-linux' }] });
    expect((await service.call('GET', '_apis/runtime/runnerscalesets', undefined, { query: { runnerGroupId: '1', name: 'nope' } })).body).toEqual({
      count: 0,
      value: [],
    });
    expect((await service.call('GET', `_apis/runtime/runnerscalesets/${id}`)).body).toMatchObject({ id, name: 'arc-linux' });
    const groups = await service.call('GET', '_apis/runtime/runnergroups/', undefined, { query: { groupName: 'Default' } });
    expect(groups.body).toEqual({ count: 1, value: [{ id: 1, name: 'Default', size: 0, isDefaultGroup: true }] });

    // Unique within the runner group (case-insensitively here).
    const duplicate = await service.createScaleSet('ARC-linux');
    expect(duplicate.status).toBe(409);
    const other = await service.scaleSet('arc-gpu', ['arc-gpu', 'gpu']);
    expect((await service.call('PATCH', `_apis/runtime/runnerscalesets/${other.id}`, { name: 'arc-linux', RunnerSetting: {} })).status).toBe(409);
    const renamed = await service.call('PATCH', `_apis/runtime/runnerscalesets/${other.id}`, { name: 'arc-cuda', RunnerSetting: {} });
    expect(renamed.body).toMatchObject({ id: other.id, name: 'arc-cuda', labels: [{ name: 'arc-gpu' }, { name: 'gpu' }] });
    expect((await service.createScaleSet('')).status).toBe(400);

    // Another scope does not see it.
    const repoService = await connect('/repos/octo-org/app', 'https://github.com/octo-org/app');
    expect((await repoService.call('GET', `_apis/runtime/runnerscalesets/${id}`)).status).toBe(404);

    expect((await service.call('DELETE', `_apis/runtime/runnerscalesets/${id}`)).status).toBe(204);
    const gone = await service.call('GET', `_apis/runtime/runnerscalesets/${id}`);
    expect(gone.status).toBe(404);
    expect(gone.body).toEqual({
      $id: '1',
      innerException: null,
      message: expect.any(String),
      typeName: 'GitHub.Actions.Runtime.WebApi.RunnerScaleSetNotFoundException, GitHub.Actions.Runtime.WebApi',
      typeKey: 'RunnerScaleSetNotFoundException',
      errorCode: 0,
      eventId: 3000,
    });
    expect(gone.headers.get('activityid')).toMatch(UUID);
  });

  it('allows one session per scale set: a second gets 409 until the first is deleted or reaped for not polling', async () => {
    const { sim, connect } = await start();
    const service = await connect();
    const { id } = await service.scaleSet('arc');
    const first = await service.session(id, 'listener-1');
    expect(first).toMatchObject({
      sessionId: expect.stringMatching(UUID),
      ownerName: 'listener-1',
      runnerScaleSet: { id, name: 'arc' },
      messageQueueUrl: `${sim.url}/broker/mq/${id}/${first.sessionId}`,
      messageQueueAccessToken: expect.any(String),
      statistics: { totalAssignedJobs: 0 },
    });

    const conflict = await service.createSession(id, 'listener-2');
    expect(conflict.status).toBe(409);
    expect(conflict.body.typeName).toBe('GitHub.Actions.Runtime.WebApi.RunnerScaleSetSessionConflictException, GitHub.Actions.Runtime.WebApi');
    expect(conflict.body.message).toBe('The actions runner scaleset arc already has an active session for owner listener-1.');

    // Polled, it lives on past the reap interval.
    const until = Date.now() + 900;
    while (Date.now() < until) expect((await poll(first)).status).toBe(202);
    expect((await service.createSession(id, 'listener-2')).status).toBe(409);
    // A poll held longer than the reap interval keeps it too: an open poll is a listener heard from.
    await simControl(sim, 'PUT', '/_sim/scale-sets/timing', { longPollMs: 1_000 });
    const held = poll(first);
    await sleep(850);
    expect((await service.createSession(id, 'listener-2')).status).toBe(409);
    expect((await held).status).toBe(202);
    await simControl(sim, 'PUT', '/_sim/scale-sets/timing', { longPollMs: 300 });

    // Not polled (the listener crashed): reaped after sessionIdleReapMs; then a new one may start.
    await sleep(750);
    const second = await service.session(id, 'listener-2');
    expect(second.sessionId).not.toBe(first.sessionId);
    expect((await poll(first)).status).toBe(401);
    // Deleting a session that is gone: 400 SessionExpired.
    const expired = await service.deleteSession(id, first.sessionId);
    expect(expired.status).toBe(400);
    expect(expired.body.typeName).toContain('RunnerScaleSetSessionExpiredException');
    expect((await service.deleteSession(id, second.sessionId)).status).toBe(204);

    // The fault: the next creation conflicts as if another owner held a session.
    await simControl(sim, 'PUT', '/_sim/scale-sets/faults', { sessionConflicts: 1 });
    expect((await service.createSession(id, 'listener-3')).status).toBe(409);
    expect((await service.createSession(id, 'listener-3')).status).toBe(200);
    expect(sim.stats().scaleSets).toMatchObject({ sessionsCreated: 3, sessionConflicts: 4 });
    expect(sim.stats().calls['POST /broker/rest/_apis/runtime/runnerscalesets/{scale_set_id}/sessions']).toBe(7);
  });

  it('refreshes a session with a new queue token; old, expired and unknown tokens get 401; an unknown session 404', async () => {
    const { sim, connect } = await start();
    const service = await connect();
    const { id } = await service.scaleSet('arc');
    const session = await service.session(id);

    const refreshed = await service.refresh(id, session.sessionId);
    expect(refreshed.status).toBe(200);
    const renewed = refreshed.body as Session;
    expect(renewed).toMatchObject({
      sessionId: session.sessionId,
      ownerName: 'listener-1',
      messageQueueUrl: session.messageQueueUrl,
      statistics: expect.any(Object),
    });
    expect(renewed.messageQueueAccessToken).not.toBe(session.messageQueueAccessToken);
    expect((await poll(session)).status).toBe(401);
    expect((await poll(renewed)).status).toBe(202);
    expect((await poll({ ...renewed, messageQueueAccessToken: 'nope' })).status).toBe(401);
    expect((await service.refresh(id, '00000000-0000-0000-0000-000000000001')).status).toBe(404);

    // All queue tokens expired at once: 401 until a refresh.
    await simControl(sim, 'PUT', '/_sim/scale-sets/faults', { expireTokens: 'message-queue' });
    expect((await poll(renewed)).status).toBe(401);
    expect((await ack(renewed, 1)).status).toBe(401);
    const again = (await service.refresh(id, session.sessionId)).body as Session;
    expect((await poll(again)).status).toBe(202);

    // A token past its lifetime.
    await simControl(sim, 'PUT', '/_sim/scale-sets/timing', { messageQueueTokenTtlMs: 150 });
    const short = (await service.refresh(id, session.sessionId)).body as Session;
    await sleep(250);
    expect((await poll(short)).status).toBe(401);
  });

  it('holds a poll for longPollMs and answers 202 with no body when nothing comes; a message ends the poll at once', async () => {
    const { sim, connect, queue } = await start({ scaleSets: { longPollMs: 2_000 } });
    const service = await connect();
    const { id } = await service.scaleSet('arc');
    const session = await service.session(id);
    await simControl(sim, 'PUT', '/_sim/scale-sets/timing', { longPollMs: 300 });

    const began = Date.now();
    const empty = await poll(session);
    expect(empty.status).toBe(202);
    expect(empty.body).toBeUndefined();
    expect(Date.now() - began).toBeGreaterThanOrEqual(280);
    expect(sim.stats().calls['GET /broker/mq/{scale_set_id}/{session_id}']).toBe(1);

    await simControl(sim, 'PUT', '/_sim/scale-sets/timing', { longPollMs: 5_000 });
    const waiting = poll(session, 1);
    await sleep(200);
    const queuedAt = Date.now();
    await queue(['arc']);
    const got = await waiting;
    expect(got.status).toBe(200);
    expect(Date.now() - queuedAt).toBeLessThan(1_500);
    expect(got.jobs.map((j) => j.messageType)).toEqual(['JobAssigned']);
  });

  it('assigns jobs (JobAssigned) only once a poll told the capacity, and never more than the capacity', async () => {
    const { sim, connect, queue, view } = await start();
    const service = await connect();
    const { id } = await service.scaleSet('arc');
    const session = await service.session(id);
    const { runId, jobs } = await queue(['arc'], { matrix: 3 });

    await sleep(300);
    expect(view(id).pendingJobMessages).toEqual([]);
    expect(view(id).statistics).toMatchObject({ totalAvailableJobs: 3, totalAssignedJobs: 0 });

    const first = await poll(session, 2);
    expect(first.status).toBe(200);
    expect(first.envelope).toMatchObject({
      messageId: 1,
      messageType: 'RunnerScaleSetJobMessages',
      statistics: { totalAssignedJobs: 2, totalAvailableJobs: 1 },
    });
    expect(typeof first.envelope!.body).toBe('string');
    expect(first.jobs).toHaveLength(2);
    for (const [i, message] of first.jobs.entries()) {
      expect(message).toMatchObject({
        messageType: 'JobAssigned',
        runnerRequestId: expect.any(Number),
        repositoryName: 'app',
        ownerName: 'octo-org',
        jobId: expect.stringMatching(UUID),
        jobWorkflowRef: 'octo-org/app/.github/workflows/ci.yml@refs/heads/main',
        jobDisplayName: `build (${i + 1})`,
        workflowRunId: runId,
        eventName: 'push',
        requestLabels: ['arc'],
        queueTime: expect.any(String),
        scaleSetAssignTime: expect.any(String),
      });
      // The scale-set job id is not the REST workflow job id.
      expect(jobs.map((j) => String(j.id))).not.toContain(message.jobId);
      expect(message).not.toHaveProperty('runnerAssignTime');
      expect(message).not.toHaveProperty('runnerId');
    }
    expect(new Set(first.jobs.map((j) => j.runnerRequestId)).size).toBe(2);
    expect((await ack(session, 1)).status).toBe(204);

    // Two assigned and not completed: with capacity 2, the third waits.
    expect((await poll(session, 2, 1)).status).toBe(202);
    expect(view(id).statistics).toMatchObject({ totalAssignedJobs: 2, totalAvailableJobs: 1 });
    const third = await poll(session, 3, 1);
    expect(third.jobs.map((j) => [j.messageType, j.jobDisplayName])).toEqual([['JobAssigned', 'build (3)']]);
    expect(sim.stats().scaleSets.jobMessages).toMatchObject({ JobAssigned: 3, JobAvailable: 0 });
  });

  it('splits 120 job messages into messages of at most 50, in order, all delivered', async () => {
    const { connect, queue } = await start();
    const service = await connect();
    const { id } = await service.scaleSet('arc');
    const session = await service.session(id);
    await queue(['arc'], { matrix: 120 });

    const sizes: number[] = [];
    const all: JobMessage[] = [];
    let last = 0;
    for (;;) {
      const got = await poll(session, 500, last);
      if (got.status === 202) break;
      sizes.push(got.jobs.length);
      all.push(...got.jobs);
      expect(got.envelope!.messageId).toBe(last + 1);
      last = got.envelope!.messageId;
      expect((await ack(session, last)).status).toBe(204);
    }
    expect(sizes).toEqual([50, 50, 20]);
    expect(all.map((j) => j.jobDisplayName)).toEqual(Array.from({ length: 120 }, (_, i) => `build (${i + 1})`));
    expect(all.every((j) => j.messageType === 'JobAssigned')).toBe(true);
    const ids = all.map((j) => j.runnerRequestId);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
  });

  it('redelivers an unacknowledged message to a poll from 0 and to a new session; an ack removes it', async () => {
    const { sim, connect, queue, view } = await start();
    const service = await connect();
    const { id } = await service.scaleSet('arc');
    const session = await service.session(id);
    await queue(['arc']);

    const first = await poll(session, 5);
    expect(first.envelope!.messageId).toBe(1);
    // Not acked: the same message again from 0 (a restarted listener's cursor)…
    const again = await poll(session, 5, 0);
    expect(again.envelope!.messageId).toBe(1);
    expect(again.envelope!.body).toBe(first.envelope!.body);
    // …but nothing past it.
    expect((await poll(session, 5, 1)).status).toBe(202);

    // The queue is the scale set's: a new session after the old one is deleted gets it too.
    expect((await service.deleteSession(id, session.sessionId)).status).toBe(204);
    const next = await service.session(id, 'listener-2');
    const redelivered = await poll(next, 5);
    expect(redelivered.envelope!.messageId).toBe(1);
    expect(redelivered.jobs).toEqual(first.jobs);
    expect(view(id).unackedMessageIds).toEqual([1]);
    expect(sim.stats().scaleSets).toMatchObject({ messagesDelivered: 3, messagesRedelivered: 2 });

    expect((await ack(next, 1)).status).toBe(204);
    expect((await ack(next, 1)).status).toBe(404);
    expect(view(id).unackedMessageIds).toEqual([]);
    expect((await poll(next, 5)).status).toBe(202);
  });

  it('in explicit mode (GHES) announces JobAvailable and assigns what acquirejobs takes, within the capacity', async () => {
    const { sim, connect, queue, view } = await start({ scaleSets: { acquire: 'explicit' } });
    const service = await connect();
    const { id } = await service.scaleSet('arc');
    const session = await service.session(id);
    await queue(['arc'], { matrix: 2 });

    const available = await poll(session, 1);
    expect(available.jobs.map((j) => j.messageType)).toEqual(['JobAvailable', 'JobAvailable']);
    expect(available.jobs[0]!.acquireJobUrl).toBe(`${service.base}_apis/runtime/runnerscalesets/${id}/acquirejobs`);
    expect(available.envelope!.statistics).toMatchObject({ totalAvailableJobs: 2, totalAssignedJobs: 0 });
    await ack(session, available.envelope!.messageId);
    // Nothing is assigned without an acquire.
    await sleep(300);
    expect(view(id).statistics.totalAssignedJobs).toBe(0);

    const ids = available.jobs.map((j) => j.runnerRequestId);
    // The queue token, not the admin token.
    expect((await service.acquire(id, ids, service.adminToken)).status).toBe(401);
    const acquired = await service.acquire(id, ids, session.messageQueueAccessToken);
    expect(acquired.status).toBe(200);
    // Capacity 1: one of the two.
    expect(acquired.body).toEqual({ count: 1, value: [ids[0]] });
    expect((await service.acquire(id, [12345], session.messageQueueAccessToken)).body).toEqual({ count: 0, value: [] });

    const assigned = await poll(session, 1, available.envelope!.messageId);
    expect(assigned.jobs).toEqual([expect.objectContaining({ messageType: 'JobAssigned', runnerRequestId: ids[0], jobId: available.jobs[0]!.jobId })]);
    expect(assigned.envelope!.statistics).toMatchObject({ totalAvailableJobs: 1, totalAssignedJobs: 1 });
    expect(sim.stats().scaleSets).toMatchObject({ acquired: 1, jobMessages: { JobAvailable: 2, JobAssigned: 1 } });
  });

  it('registers a JIT runner with the scale set’s labels and group; it runs an assigned job: JobStarted, JobCompleted with the runner', async () => {
    const { sim, connect, queue, rest } = await start();
    const service = await connect();
    const { id } = await service.scaleSet('arc-set', ['arc-set', 'linux']);
    const jit = await service.jit(id, 'arc-runner-1');
    expect(jit.status).toBe(200);
    expect(jit.body).toEqual({ runner: { id: expect.any(Number), name: 'arc-runner-1', runnerScaleSetId: id }, encodedJITConfig: expect.any(String) });
    const runnerId = jit.body.runner.id as number;
    const duplicate = await service.jit(id, 'arc-runner-1');
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.typeName).toContain('AgentExistsException');
    // Seen on the REST side like any runner: the scale set's labels and group.
    const listed = await rest('GET', `/orgs/octo-org/actions/runners/${runnerId}`);
    expect(listed.body).toMatchObject({ name: 'arc-runner-1', runner_group_id: 1, labels: [{ name: 'arc-set' }, { name: 'linux' }] });
    const byName = await service.call('GET', '_apis/distributedtask/pools/0/agents', undefined, { query: { agentName: 'arc-runner-1' } });
    expect(byName.body).toEqual({ count: 1, value: [{ id: runnerId, name: 'arc-runner-1', runnerScaleSetId: id }] });

    const session = await service.session(id);
    const { jobs } = await queue(['arc-set'], { durationMs: 100 });
    expect((await poll(session, 1)).jobs.map((j) => j.messageType)).toEqual(['JobAssigned']);
    await ack(session, 1);
    // The simulated runner, unchanged, with the scale set's JIT config.
    const runner = runSimulatedRunner(jit.body.encodedJITConfig);
    stops.push(() => runner.kill());
    const messages = await listen(session, 1, (all) => all.some((m) => m.messageType === 'JobCompleted'), 15_000);
    expect(await runner.exited).toBe(0);

    const started = messages.find((m) => m.messageType === 'JobStarted')!;
    const completed = messages.find((m) => m.messageType === 'JobCompleted')!;
    expect(started).toMatchObject({ runnerId, runnerName: 'arc-runner-1', runnerAssignTime: expect.any(String), scaleSetAssignTime: expect.any(String) });
    expect(completed).toMatchObject({ result: 'succeeded', runnerId, runnerName: 'arc-runner-1', finishTime: expect.any(String), jobId: started.jobId });
    expect(sim.model.jobs.get(jobs[0]!.id)).toMatchObject({ status: 'completed', conclusion: 'success', runnerName: 'arc-runner-1' });
    // GitHub sent the workflow_job webhooks as for any job.
    const actions = sim.deliveries.all
      .filter((d) => (JSON.parse(d.body) as { workflow_job: { id: number } }).workflow_job.id === jobs[0]!.id)
      .map((d) => d.action);
    expect(actions).toEqual(['queued', 'in_progress', 'completed']);
    // Ephemeral: gone after its job.
    expect((await service.call('GET', `_apis/distributedtask/pools/0/agents/${runnerId}`)).body.typeName).toContain('AgentNotFoundException');
  }, 30_000);

  it('refuses to remove a busy runner (400 JobStillRunning) and removes an idle one (204)', async () => {
    const { sim, connect, queue } = await start();
    const service = await connect();
    const { id } = await service.scaleSet('arc');
    const session = await service.session(id);
    const busy = (await service.jit(id, 'busy')).body.runner.id as number;
    const idle = (await service.jit(id, 'idle')).body.runner.id as number;
    await queue(['arc'], { durationMs: 60_000 });
    const runner = sim.model.runners.get(busy)!;
    sim.model.openSession(runner);
    let got: SimJob | undefined;
    sim.model.waitForJob(runner, (job) => (got = job));
    await poll(session, 1);
    await waitUntil('the job started', () => got !== undefined);

    const refused = await service.call('DELETE', `_apis/distributedtask/pools/0/agents/${busy}`);
    expect(refused.status).toBe(400);
    expect(refused.body.typeName).toContain('JobStillRunningException');
    expect((await service.call('DELETE', `_apis/distributedtask/pools/0/agents/${idle}`)).status).toBe(204);
    expect((await service.call('DELETE', `_apis/distributedtask/pools/0/agents/${idle}`)).status).toBe(404);
    expect(sim.model.runners.has(idle)).toBe(false);
  });

  it('withdraws an assignment no runner took in assignTimeoutMs (JobCompleted canceled, no runner), reassigns it with a new runnerRequestId and the same jobId, at most maxWithdrawals times', async () => {
    const { sim, connect, queue } = await start({ scaleSets: { assignTimeoutMs: 300, requeueDelayMs: 100, maxWithdrawals: 3 } });
    const service = await connect();
    const { id } = await service.scaleSet('arc');
    const session = await service.session(id);
    const { jobs } = await queue(['arc']);

    const messages = await listen(session, 1, (all) => all.filter((m) => m.messageType === 'JobAssigned').length === 4, 8_000);
    // Then it sticks: no further withdrawal.
    const after = await listen(session, 1, () => false, 900);
    expect(after).toEqual([]);

    expect(messages.map((m) => m.messageType)).toEqual([
      'JobAssigned',
      'JobCompleted',
      'JobAssigned',
      'JobCompleted',
      'JobAssigned',
      'JobCompleted',
      'JobAssigned',
    ]);
    expect(new Set(messages.map((m) => m.jobId)).size).toBe(1);
    const assigned = messages.filter((m) => m.messageType === 'JobAssigned');
    expect(new Set(assigned.map((m) => m.runnerRequestId)).size).toBe(4);
    for (let k = 0; k < 3; k++) {
      const completed = messages[2 * k + 1]!;
      expect(completed).toMatchObject({ result: 'canceled', runnerRequestId: assigned[k]!.runnerRequestId });
      expect(completed).not.toHaveProperty('runnerId');
      expect(completed).not.toHaveProperty('runnerName');
      // Assigned again only after requeueDelayMs × the withdrawal count.
      expect(Date.parse(assigned[k + 1]!.scaleSetAssignTime!) - Date.parse(completed.finishTime!)).toBeGreaterThanOrEqual(100 * (k + 1) - 5);
      // And withdrawn only after assignTimeoutMs.
      expect(Date.parse(completed.finishTime!) - Date.parse(assigned[k]!.scaleSetAssignTime!)).toBeGreaterThanOrEqual(295);
    }
    expect(sim.stats().scaleSets.withdrawals).toBe(3);
    expect(sim.model.jobs.get(jobs[0]!.id)!.status).toBe('queued');
  }, 20_000);

  it('ends a job cancelled while assigned with JobCompleted canceled (no runner); one cancelled before assignment sends nothing', async () => {
    const { sim, connect, queue, view } = await start();
    const service = await connect();
    const { id } = await service.scaleSet('arc');
    const session = await service.session(id);
    const { jobs } = await queue(['arc'], { matrix: 2 });
    const first = await poll(session, 1);
    expect(first.jobs.map((j) => [j.messageType, j.jobDisplayName])).toEqual([['JobAssigned', 'build (1)']]);
    await ack(session, first.envelope!.messageId);

    // The unassigned one first (so the freed capacity does not assign it), then the assigned one.
    await simControl(sim, 'POST', `/_sim/jobs/${jobs[1]!.id}/cancel`);
    await simControl(sim, 'POST', `/_sim/jobs/${jobs[0]!.id}/cancel`);
    const next = await poll(session, 1, first.envelope!.messageId);
    expect(next.jobs).toHaveLength(1);
    expect(next.jobs[0]).toMatchObject({
      messageType: 'JobCompleted',
      result: 'canceled',
      jobId: first.jobs[0]!.jobId,
      runnerRequestId: first.jobs[0]!.runnerRequestId,
    });
    expect(next.jobs[0]).not.toHaveProperty('runnerId');
    await ack(session, next.envelope!.messageId);
    expect((await poll(session, 1, next.envelope!.messageId)).status).toBe(202);
    expect(view(id).statistics).toMatchObject({ totalAssignedJobs: 0, totalAvailableJobs: 0 });
    expect(sim.stats().scaleSets.jobMessages).toMatchObject({ JobAssigned: 1, JobCompleted: 1 });
  });

  it('answers 404 RunnerScaleSetNotFoundException for a scale set deleted on GitHub’s side; its jobs are queued again and its idle runners removed', async () => {
    const { sim, connect, queue } = await start({ scaleSets: { longPollMs: 5_000 } });
    const service = await connect();
    const { id } = await service.scaleSet('arc');
    const session = await service.session(id);
    const jit = (await service.jit(id, 'arc-idle')).body;
    const { jobs } = await queue(['arc']);
    const assigned = await poll(session, 1);
    expect(assigned.jobs.map((j) => j.messageType)).toEqual(['JobAssigned']);
    await ack(session, assigned.envelope!.messageId);

    const open = poll(session, 1, assigned.envelope!.messageId);
    await sleep(100);
    await simControl(sim, 'DELETE', `/_sim/scale-sets/${id}`);
    const notFound = 'GitHub.Actions.Runtime.WebApi.RunnerScaleSetNotFoundException, GitHub.Actions.Runtime.WebApi';
    // An open poll ends with it.
    expect(await open).toMatchObject({ status: 404, body: { typeName: notFound } });
    for (const reply of [
      await poll(session, 1),
      await service.createSession(id),
      await service.refresh(id, session.sessionId),
      await service.deleteSession(id, session.sessionId),
      await service.jit(id, 'arc-late'),
      await service.acquire(id, [1], session.messageQueueAccessToken),
      await service.call('GET', `_apis/runtime/runnerscalesets/${id}`),
    ])
      expect(reply).toMatchObject({ status: 404, body: { typeName: notFound } });

    expect(sim.model.runners.has(jit.runner.id)).toBe(false);
    expect(sim.scaleSets.inspect()).toEqual([]);
    // Queued again, and no longer kept for a scale set: a plain runner may take it now.
    const plain = sim.model.registerRunner({ kind: 'org', org: 'octo-org' }, 'plain', ['self-hosted', 'arc'], 1) as SimRunner;
    sim.model.openSession(plain);
    let got: SimJob | undefined;
    sim.model.waitForJob(plain, (job) => (got = job));
    expect(got?.id).toBe(jobs[0]!.id);
  });

  it('injects broker faults (5xx fraction, failNext) on the broker only, and REST faults and limits leave the broker alone', async () => {
    const { sim, connect, rest } = await start({ limits: { pointsPerMinute: 30 } });
    const service = await connect();
    const { id } = await service.scaleSet('arc');
    const session = await service.session(id);

    await simControl(sim, 'PUT', '/_sim/scale-sets/faults', { brokerServerError: 1 });
    const failed = await service.call('GET', `_apis/runtime/runnerscalesets/${id}`);
    expect([500, 502, 503]).toContain(failed.status);
    expect(failed.body.typeName).toEqual(expect.any(String));
    expect([500, 502, 503]).toContain((await poll(session, 1)).status);
    // The REST side is another service.
    expect((await rest('GET', '/orgs/octo-org/actions/runners')).status).toBe(200);

    await simControl(sim, 'PUT', '/_sim/scale-sets/faults', { brokerServerError: 0, failNext: [{ status: 503, count: 2 }] });
    const one = await service.call('GET', `_apis/runtime/runnerscalesets/${id}`);
    expect(one.status).toBe(503);
    expect(one.headers.get('retry-after')).toBe('1');
    expect((await poll(session, 1)).status).toBe(503);
    expect((await service.call('GET', `_apis/runtime/runnerscalesets/${id}`)).status).toBe(200);
    expect(sim.stats().scaleSets.brokerFaultsInjected).toBe(4);
    expect(sim.stats().faultsInjected).toBe(0);

    // REST faults and the REST secondary rate limit (30 points a minute here) do not touch the broker.
    await simControl(sim, 'PUT', '/_sim/faults', { rest: { serverError: 1 } });
    expect((await rest('GET', '/orgs/octo-org/actions/runners')).status).toBe(502);
    for (let i = 0; i < 40; i++) expect((await service.call('GET', `_apis/runtime/runnerscalesets/${id}`)).status).toBe(200);
    expect(sim.stats().secondaryRateLimited).toBe(0);
    expect((await service.call('GET', `_apis/runtime/runnerscalesets/${id}`)).headers.get('x-ratelimit-limit')).toBeNull();
  });

  it('refuses requests without the api-version query (400), polls without the Accept version or a valid X-ScaleSetMaxCapacity (400), wrong bearers (401)', async () => {
    const { connect } = await start();
    const service = await connect();
    const { id } = await service.scaleSet('arc');
    const session = await service.session(id);

    const missing = await service.call('GET', `_apis/runtime/runnerscalesets/${id}`, undefined, { version: null });
    expect(missing.status).toBe(400);
    expect(missing.body.message).toContain('api-version');
    expect((await service.call('GET', `_apis/runtime/runnerscalesets/${id}`, undefined, { version: '5.1' })).status).toBe(400);
    expect((await service.call('POST', `_apis/runtime/runnerscalesets/${id}/sessions`, { ownerName: 'x' }, { version: null })).status).toBe(400);

    expect((await poll(session, null)).status).toBe(400);
    expect((await poll(session, null, 0, { 'x-scalesetmaxcapacity': 'many' })).status).toBe(400);
    expect((await poll(session, null, 0, { 'x-scalesetmaxcapacity': '-1' })).status).toBe(400);
    expect((await poll(session, 1, 0, { accept: 'application/json' })).status).toBe(400);
    expect((await poll({ ...session, messageQueueUrl: `${session.messageQueueUrl}?lastMessageId=x` }, 1)).status).toBe(400);
    expect((await poll(session, 0)).status).toBe(202);

    // The admin routes want the admin token; the queue wants its own.
    expect((await service.call('GET', `_apis/runtime/runnerscalesets/${id}`, undefined, { bearer: session.messageQueueAccessToken })).status).toBe(401);
    expect((await poll({ ...session, messageQueueAccessToken: service.adminToken })).status).toBe(401);
  });

  it('leaves plain jobs and runners as they were; keeps scale-set jobs from plain runners and scale-set runners to their assigned jobs', async () => {
    const { sim, connect, queue } = await start();
    const service = await connect();
    const { id } = await service.scaleSet('arc');
    // The scale set's job is the older one: a plain runner that fits both must still pass it over.
    const { jobs: arcJobs } = await queue(['arc']);
    const { jobs: plainJobs } = await queue(['docker']);
    const org = { kind: 'org' as const, org: 'octo-org' };
    const waitOn = (runner: SimRunner) => {
      const seen: { job?: SimJob } = {};
      sim.model.openSession(runner);
      sim.model.waitForJob(runner, (job) => (seen.job = job));
      return seen;
    };

    // A plain runner whose labels fit both takes the plain job, never the scale set's.
    const both = waitOn(sim.model.registerRunner(org, 'both', ['self-hosted', 'docker', 'arc'], 1) as SimRunner);
    expect(both.job?.id).toBe(plainJobs[0]!.id);
    const arcOnly = waitOn(sim.model.registerRunner(org, 'arc-plain', ['self-hosted', 'arc'], 1) as SimRunner);
    // A runner of the scale set does not take its job before GitHub assigned it to the scale set.
    const jit = (await service.jit(id, 'arc-1')).body;
    const member = waitOn(sim.model.runners.get(jit.runner.id)!);
    await sleep(300);
    expect(arcOnly.job).toBeUndefined();
    expect(member.job).toBeUndefined();

    const session = await service.session(id);
    const got = await listen(session, 1, (all) => all.some((m) => m.messageType === 'JobStarted'), 3_000);
    expect(got.map((m) => m.messageType)).toEqual(['JobAssigned', 'JobStarted']);
    expect(member.job?.id).toBe(arcJobs[0]!.id);
    expect(arcOnly.job).toBeUndefined();
    // Plain runners and jobs know nothing of it.
    sim.model.completeJob(sim.model.runners.get(sim.model.jobs.get(plainJobs[0]!.id)!.runnerId!)!, plainJobs[0]!.id, 'success');
    expect(sim.model.jobs.get(plainJobs[0]!.id)).toMatchObject({ status: 'completed', conclusion: 'success', runnerName: 'both' });
    expect(got.every((m) => m.jobDisplayName === 'build' && m.requestLabels.join() === 'arc')).toBe(true);
  });
});
