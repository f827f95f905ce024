import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import * as z from 'zod';
import { error, type Reply, type Request, type Router } from './http';
import { encodeJitConfig } from './jit-config';
import { canRun, sameScope, type JobEvent, type Scope, type SimJob, type SimModel, type SimRunner } from './model';

/*
 * GitHub's runner scale set protocol, as actions/scaleset (SS, v0.4.0) and actions-runner-controller (ARC) speak it:
 *
 * - REST side: a registration token (`POST …/actions/runners/registration-token`), exchanged at
 *   `POST /actions/runner-registration` (`Authorization: RemoteAuth <token>`) for the Actions service URL and an admin
 *   token (SS client.go getActionsServiceAdminConnection).
 * - The Actions service ("broker", `<sim>/broker/rest/`): scale sets, runner groups, message sessions, acquirejobs,
 *   generatejitconfig, agents (SS client.go, session_client.go). Every request carries `?api-version=6.0-preview`.
 * - The message queue (`<sim>/broker/mq/{scale set}/{session}`): a long poll answering 200 with up to 50 job messages or
 *   202 when none came, acknowledged by DELETE (SS README "How the Message API Works").
 * - GitHub's behaviour: a queued job whose labels are all among a scale set's labels belongs to that scale set; GitHub
 *   assigns it to the scale set under the capacity the listener advertises (X-ScaleSetMaxCapacity), or announces it
 *   (JobAvailable) and waits for acquirejobs (GHES); a runner of the scale set then takes it by the ordinary assignment
 *   rule (model.ts); an assignment no runner takes in time is withdrawn (SS README "Job Reassignment").
 *
 * Where the real behaviour is not documented, the simulator picks the stricter plausible one and says so ("unknown").
 */

// --- knobs -----------------------------------------------------------------------------------------------------------

export interface ScaleSetTiming {
  /** How long a message-queue poll is held before 202. Documented: "~50 seconds" (SS README "Long Polling"). */
  readonly longPollMs: number;
  /** A session not polled this long is reaped (a crashed listener's session blocks a new one until then). Unknown: sim's choice. */
  readonly sessionIdleReapMs: number;
  /** A job assigned to a scale set that none of its runners started within this is withdrawn. */
  readonly assignTimeoutMs: number;
  /** A withdrawn job is assigned again after requeueDelayMs × its withdrawal count. */
  readonly requeueDelayMs: number;
  /** At most this many withdrawals, then the assignment sticks. Documented: "up to 3 times" (SS README "Job Reassignment"). */
  readonly maxWithdrawals: number;
  /** Lifetime of the admin token (its `exp` claim). Unknown: sim's choice. */
  readonly adminTokenTtlMs: number;
  /** Lifetime of a message-queue token. Unknown: sim's choice. */
  readonly messageQueueTokenTtlMs: number;
  /** Lifetime of a registration token: "expires after one hour" (GitHub REST docs, "Create a registration token"). */
  readonly registrationTokenTtlMs: number;
  /**
   * `auto` (github.com): GitHub assigns jobs to the scale set itself (JobAssigned) under its advertised capacity.
   * `explicit` (GHES): GitHub announces JobAvailable and assigns only what acquirejobs takes. Inferred from scaleset
   * issue #75 (GHES jobs "sit in available indefinitely" without acquire) and the acquire flow's restore in SS v0.3.0.
   */
  readonly acquire: 'auto' | 'explicit';
}

/*
 * Defaults. Documented: longPollMs 50 s (SS README "Long Polling"); maxWithdrawals 3 (SS README "Job Reassignment",
 * "up to 3 times with incremental delays"); registration tokens 1 h (GitHub REST docs). assignTimeoutMs 60 s follows
 * GitHub's docs for self-hosted runners ("if a job is not picked up within 60 seconds it is re-queued"); that it holds
 * for scale sets is the simulator's assumption. requeueDelayMs (the "incremental delays" have no documented value),
 * sessionIdleReapMs and the token lifetimes are the simulator's choices: messageQueueTokenTtlMs 50 min matches the
 * "every ~50 minutes" refresh cycle reported in scaleset PR #123, not a documented value.
 */
export const REALISTIC_SCALE_SET_TIMING: ScaleSetTiming = {
  longPollMs: 50_000,
  sessionIdleReapMs: 120_000,
  assignTimeoutMs: 60_000,
  requeueDelayMs: 10_000,
  maxWithdrawals: 3,
  adminTokenTtlMs: 3_600_000,
  messageQueueTokenTtlMs: 3_000_000,
  registrationTokenTtlMs: 3_600_000,
  acquire: 'auto',
};

export interface BrokerFaults {
  /** Fraction 0..1 of broker requests (Actions service and message queue) answering 500, 502 or 503. */
  brokerServerError: number;
  /** Deterministic: the next `count` broker requests answer `status`. */
  failNext: { status: number; count: number }[];
  /** The next n session creations answer 409, as if another owner held a session. */
  sessionConflicts: number;
}

export interface ScaleSetStats {
  sessionsCreated: number;
  sessionConflicts: number;
  messagesDelivered: number;
  messagesRedelivered: number;
  jobMessages: Record<JobMessageType, number>;
  withdrawals: number;
  acquired: number;
  brokerFaultsInjected: number;
}

export type JobMessageType = 'JobAvailable' | 'JobAssigned' | 'JobStarted' | 'JobCompleted';

/** One element of a message's `body` array (SS types.go JobMessageBase and the four message types; camelCase). */
export interface JobMessage {
  readonly messageType: JobMessageType;
  readonly runnerRequestId: number;
  readonly repositoryName: string;
  readonly ownerName: string;
  readonly jobId: string;
  readonly jobWorkflowRef: string;
  readonly jobDisplayName: string;
  readonly workflowRunId: number;
  readonly eventName: string;
  readonly requestLabels: readonly string[];
  readonly queueTime?: string;
  readonly scaleSetAssignTime?: string;
  readonly runnerAssignTime?: string;
  readonly finishTime?: string;
  readonly acquireJobUrl?: string;
  readonly runnerId?: number;
  readonly runnerName?: string;
  readonly result?: string;
}

export interface Statistics {
  totalAvailableJobs: number;
  totalAcquiredJobs: number;
  totalAssignedJobs: number;
  totalRunningJobs: number;
  totalRegisteredRunners: number;
  totalBusyRunners: number;
  totalIdleRunners: number;
}

export interface ScaleSetView {
  id: number;
  name: string;
  scope: Scope;
  runnerGroupId: number;
  labels: { type: string; name: string }[];
  session: { id: string; owner: string; createdAt: string; lastPollAt: string | null; openPolls: number } | null;
  capacity: number | null;
  pendingJobMessages: JobMessage[];
  unackedMessageIds: number[];
  statistics: Statistics;
}

/** What tests and the simulator see of the scale sets. */
export interface ScaleSetService {
  timing: ScaleSetTiming;
  readonly faults: BrokerFaults;
  inspect(): ScaleSetView[];
  stats(): ScaleSetStats;
  /** Deletes a scale set on GitHub's side (idle cleanup, an admin); false when unknown. */
  deleteScaleSet(id: number): boolean;
  /** Expires every current admin or message-queue token now. */
  expireTokens(kind: 'admin' | 'message-queue'): void;
  /** The scale-set job id (GUID) GitHub gave a job when a scale set got it, if one did. */
  scaleSetJobIdOf(jobId: number): string | undefined;
  /** The simulator's plumbing: job events, the assignment rule's filter, broker faults, shutdown. */
  onJobEvent(event: JobEvent): void;
  eligible(runner: SimRunner, job: SimJob): boolean;
  injectFault(): Reply | undefined;
  stop(): void;
}

export interface ScaleSetDeps {
  readonly model: SimModel;
  /** The simulator's base URL (known once it listens). */
  readonly url: () => string;
  /** The simulator's seeded PRNG. */
  readonly random: () => number;
  /** Installation-token authentication, as the REST routes do it. */
  readonly asInstallation: (request: Request, owner: string) => { installationId: number } | Reply;
  /** GitHub's runner registration limit (shared with REST generate-jitconfig). */
  readonly registrationLimit: (scope: Scope) => Reply | undefined;
  /** The JIT config size knob (/_sim/jit-config). */
  readonly jitMinBytes: () => number;
  readonly timing?: Partial<ScaleSetTiming>;
}

// --- wire helpers ----------------------------------------------------------------------------------------------------

const MAX_JOB_MESSAGES = 50; // "Responses contain at most 50 messages" (SS README "Autoscaling")
const API_VERSION = '6.0-preview'; // SS client.go newActionsServiceRequest; session_client.go getMessage (Accept header)
const RUNTIME = 'GitHub.Actions.Runtime.WebApi';
const TASK = 'GitHub.DistributedTask.WebApi';
const SCALE_SET_NOT_FOUND = `${RUNTIME}.RunnerScaleSetNotFoundException`; // ARC issues #3935, #4370
const SESSION_CONFLICT = `${RUNTIME}.RunnerScaleSetSessionConflictException`; // ARC issues #3209, #4285
const SESSION_EXPIRED = `${RUNTIME}.RunnerScaleSetSessionExpiredException`; // ARC issue #4285 (DELETE of a dropped session)
/** Refresh of a session the service no longer knows: 404 RunnerAdminException (reported in scaleset PR #123). */
const SESSION_UNKNOWN = `${RUNTIME}.RunnerAdminException`;
const AGENT_EXISTS = `${TASK}.AgentExistsException`; // SS errors.go matches the substring
const AGENT_NOT_FOUND = `${TASK}.AgentNotFoundException`;
const JOB_STILL_RUNNING = `${TASK}.JobStillRunningException`;
// Unknown names (the simulator's choice): the service's exception for a duplicate scale set name, a missing runner group,
// a missing api-version, bad arguments, a refused token, a missing message.
const SCALE_SET_EXISTS = `${RUNTIME}.RunnerScaleSetExistsException`;
const GROUP_NOT_FOUND = `${TASK}.TaskAgentPoolNotFoundException`;
const VERSION_MISSING = 'GitHub.Services.WebApi.VssVersionNotSpecifiedException';
const ARGUMENT = 'System.ArgumentException';
const UNAUTHORIZED = 'GitHub.Services.WebApi.VssUnauthorizedException';
const MESSAGE_NOT_FOUND = `${RUNTIME}.RunnerScaleSetMessageNotFoundException`;

/**
 * The Actions service's error body: a .NET exception (`typeName` "<full name>, <assembly>"), as logged in ARC issue
 * #4285 ("GitHub.Actions.Runtime.WebApi.RunnerScaleSetSessionExpiredException, GitHub.Actions.Runtime.WebApi: …").
 * The assembly of a GitHub.* exception is taken to be its namespace (true of the one logged; assumed for the others).
 */
export function brokerError(status: number, typeName: string, message: string, headers?: Record<string, string>): Reply {
  const dot = typeName.lastIndexOf('.');
  const assembly = typeName.startsWith('GitHub.') ? typeName.slice(0, dot) : 'mscorlib';
  return {
    status,
    headers,
    body: { $id: '1', innerException: null, message, typeName: `${typeName}, ${assembly}`, typeKey: typeName.slice(dot + 1), errorCode: 0, eventId: 3000 },
  };
}

const isReply = (value: unknown): value is Reply => typeof value === 'object' && value !== null && typeof (value as { status?: unknown }).status === 'number';
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
const scopeName = (s: Scope) => (s.kind === 'org' ? s.org : `${s.owner}/${s.repo}`);
const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/*
 * JobCompleted `result`: SS README shows only "canceled". The other values' spelling is not documented; the simulator
 * lowercases the Azure Pipelines TaskResult names ('succeeded', 'failed', 'canceled') — unknown.
 */
const resultOf = (conclusion: string | null) => (conclusion === 'success' ? 'succeeded' : conclusion === 'cancelled' ? 'canceled' : 'failed');

// --- request bodies ----------------------------------------------------------------------------------------------------

const labelSpec = z.array(z.object({ type: z.string().optional(), name: z.string().min(1) }));
const settingSpec = z.object({ disableUpdate: z.boolean().optional() }).loose();
const createSpec = z
  .object({
    name: z.string().trim().min(1),
    runnerGroupId: z.int().min(0).optional(),
    labels: labelSpec.nullish(),
    RunnerSetting: settingSpec.optional(),
    runnerSetting: settingSpec.optional(),
  })
  .loose();
const patchSpec = z
  .object({
    name: z.string().trim().min(1).optional(),
    runnerGroupId: z.int().min(0).optional(),
    labels: labelSpec.nullish(),
    RunnerSetting: settingSpec.optional(),
    runnerSetting: settingSpec.optional(),
  })
  .loose();
const sessionSpec = z.object({ ownerName: z.string().min(1), sessionId: z.string().optional() }).loose();
const jitSpec = z.object({ name: z.string().min(1).max(64), workFolder: z.string().optional() }).loose();
const registrationSpec = z.object({ url: z.string().min(1), runner_event: z.string() }).loose();
export const scaleSetTimingSpec = z
  .strictObject({
    longPollMs: z.int().min(10).max(120_000),
    sessionIdleReapMs: z.int().min(50),
    assignTimeoutMs: z.int().min(50),
    requeueDelayMs: z.int().min(0),
    maxWithdrawals: z.int().min(0).max(100),
    adminTokenTtlMs: z.int().min(100),
    messageQueueTokenTtlMs: z.int().min(100),
    registrationTokenTtlMs: z.int().min(100),
    acquire: z.enum(['auto', 'explicit']),
  })
  .partial();
const faultSpec = z.strictObject({
  brokerServerError: z.number().min(0).max(1).optional(),
  failNext: z.array(z.object({ status: z.int().min(400).max(599), count: z.int().min(1) })).optional(),
  sessionConflicts: z.int().min(0).optional(),
  expireTokens: z.enum(['admin', 'message-queue']).optional(),
});
const issues = (e: z.ZodError) => e.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');

// --- state -------------------------------------------------------------------------------------------------------------

interface ScopedToken {
  readonly scope: Scope;
  readonly installationId: number;
  expiresAt: number;
}

interface MessageQueueToken {
  readonly scaleSetId: number;
  readonly sessionId: string;
  expiresAt: number;
}

interface Session {
  readonly id: string;
  readonly owner: string;
  token: string;
  readonly createdAt: number;
  lastPollAt?: number;
  openPolls: number;
}

interface QueueMessage {
  readonly id: number;
  readonly jobMessages: JobMessage[];
  deliveries: number;
}

interface ScaleSet {
  readonly id: number;
  name: string;
  runnerGroupId: number;
  labels: { type: string; name: string }[];
  runnerSetting: { disableUpdate?: boolean };
  readonly createdOn: number;
  readonly scope: Scope;
  session?: Session;
  /** The last X-ScaleSetMaxCapacity of the current session's polls; unset until one carried it. */
  capacity?: number;
  /** Job messages not yet put in a queue message. */
  pending: JobMessage[];
  /** Queue messages built and not acknowledged, oldest first: they belong to the scale set, not to a session. */
  unacked: QueueMessage[];
  nextMessageId: number;
  /** Open long polls to wake when a message is pending or the session ends. */
  waiters: Set<() => void>;
}

/** A job GitHub handles for a scale set: its stable job id, its current assignment attempt. */
interface Tracked {
  readonly jobId: number;
  /** The scale-set job id: a GUID stable across reassignments, not the REST workflow job id (garm PRs #459, #622). */
  readonly guid: string;
  state: 'waiting' | 'available' | 'assigned' | 'started';
  scaleSetId?: number;
  runnerRequestId?: number;
  withdrawals: number;
  /** Not assigned again before this (requeue delay after a withdrawal). */
  notBefore: number;
  scaleSetAssignTime?: number;
  runnerAssignTime?: number;
  runnerId?: number;
  runnerName?: string;
}

export function scaleSetService(router: Router, deps: ScaleSetDeps): ScaleSetService {
  const { model } = deps;
  const url = deps.url;
  let timing: ScaleSetTiming = { ...REALISTIC_SCALE_SET_TIMING, ...deps.timing };
  const faults: BrokerFaults = { brokerServerError: 0, failNext: [], sessionConflicts: 0 };
  const counters: ScaleSetStats = {
    sessionsCreated: 0,
    sessionConflicts: 0,
    messagesDelivered: 0,
    messagesRedelivered: 0,
    jobMessages: { JobAvailable: 0, JobAssigned: 0, JobStarted: 0, JobCompleted: 0 },
    withdrawals: 0,
    acquired: 0,
    brokerFaultsInjected: 0,
  };
  const secret = randomBytes(32);
  const registrationTokens = new Map<string, ScopedToken>();
  const adminTokens = new Map<string, ScopedToken>(); // by jti
  const mqTokens = new Map<string, MessageQueueToken>();
  const scaleSets = new Map<number, ScaleSet>();
  const tracked = new Map<number, Tracked>(); // by model job id
  const byRunnerRequest = new Map<number, number>(); // runnerRequestId → model job id
  let nextScaleSetId = 1;
  let nextRunnerRequestId = 1;
  let pumpScheduled = false;
  let stopped = false;

  const now = () => Date.now();
  const brokerBase = () => `${url()}/broker/rest/`;

  // --- GitHub's side: assignment to scale sets ---------------------------------------------------------------------

  /** The scale set a job belongs to: the first (by id) whose label names hold all the job's labels, in its scope. */
  const belongsTo = (job: SimJob): ScaleSet | undefined => {
    for (const ss of scaleSets.values()) if (canRun({ labels: ss.labels.map((l) => l.name), scope: ss.scope }, job)) return ss;
    return undefined;
  };

  const track = (job: SimJob): Tracked => {
    let t = tracked.get(job.id);
    if (!t) {
      t = { jobId: job.id, guid: randomUUID(), state: 'waiting', withdrawals: 0, notBefore: 0 };
      tracked.set(job.id, t);
    }
    return t;
  };

  const jobMessage = (type: JobMessageType, job: SimJob, t: Tracked, extra: Partial<JobMessage> = {}): JobMessage => {
    const workflowFile = job.workflowName.toLowerCase().replace(/[^a-z0-9]+/g, '-') || 'ci';
    const message: JobMessage = {
      messageType: type,
      runnerRequestId: t.runnerRequestId ?? 0,
      repositoryName: job.repo,
      ownerName: job.owner,
      jobId: t.guid,
      jobWorkflowRef: `${job.owner}/${job.repo}/.github/workflows/${workflowFile}.yml@refs/heads/main`,
      jobDisplayName: job.name,
      workflowRunId: job.runId,
      eventName: 'push',
      requestLabels: [...job.labels],
      queueTime: iso(job.createdAt),
      scaleSetAssignTime: iso(t.scaleSetAssignTime),
      runnerAssignTime: iso(t.runnerAssignTime),
      ...extra,
    };
    // Absent, not null, when unknown.
    return Object.fromEntries(Object.entries(message).filter(([, v]) => v !== undefined)) as unknown as JobMessage;
  };

  const emit = (ss: ScaleSet, message: JobMessage) => {
    ss.pending.push(message);
    counters.jobMessages[message.messageType]++;
    wake(ss);
  };

  const wake = (ss: ScaleSet) => {
    const waiters = [...ss.waiters];
    ss.waiters.clear();
    for (const w of waiters) w();
  };

  const newRunnerRequest = (t: Tracked) => {
    if (t.runnerRequestId !== undefined) byRunnerRequest.delete(t.runnerRequestId);
    t.runnerRequestId = nextRunnerRequestId++;
    byRunnerRequest.set(t.runnerRequestId, t.jobId);
  };

  const assignTo = (ss: ScaleSet, job: SimJob, t: Tracked) => {
    t.state = 'assigned';
    t.scaleSetId = ss.id;
    t.scaleSetAssignTime = now();
    emit(ss, jobMessage('JobAssigned', job, t));
  };

  /** Assigned to the scale set and not completed (running included): what its capacity bounds. */
  const assignedCounts = () => {
    const counts = new Map<number, number>();
    for (const t of tracked.values())
      if ((t.state === 'assigned' || t.state === 'started') && t.scaleSetId !== undefined) counts.set(t.scaleSetId, (counts.get(t.scaleSetId) ?? 0) + 1);
    return counts;
  };

  /** The withdrawn assignment ends as JobCompleted 'canceled' without runner; the job is queued again after a delay. */
  const withdraw = (t: Tracked) => {
    const job = model.jobs.get(t.jobId);
    const ss = t.scaleSetId === undefined ? undefined : scaleSets.get(t.scaleSetId);
    if (job && ss) emit(ss, jobMessage('JobCompleted', job, t, { result: 'canceled', finishTime: iso(now()) }));
    t.withdrawals++;
    counters.withdrawals++;
    t.state = 'waiting';
    t.scaleSetId = undefined;
    t.scaleSetAssignTime = undefined;
    t.notBefore = now() + timing.requeueDelayMs * t.withdrawals;
  };

  const reapIfIdle = (ss: ScaleSet) => {
    const s = ss.session;
    if (s && s.openPolls === 0 && now() - (s.lastPollAt ?? s.createdAt) > timing.sessionIdleReapMs) endSession(ss);
  };

  /** The session ends; its queue token stays known, so a request with it learns why (401, or 404 for a deleted scale set). */
  const endSession = (ss: ScaleSet) => {
    if (!ss.session) return;
    ss.session = undefined;
    ss.capacity = undefined;
    wake(ss);
  };

  /** GitHub's clocks and assignment for scale sets: reaping, withdrawals, assignment (auto) or announcements (explicit). */
  const pump = () => {
    if (scaleSets.size === 0) return;
    const t0 = now();
    for (const ss of scaleSets.values()) reapIfIdle(ss);
    for (const t of tracked.values())
      if (t.state === 'assigned' && t.withdrawals < timing.maxWithdrawals && t0 - (t.scaleSetAssignTime ?? t0) >= timing.assignTimeoutMs) withdraw(t);
    const counts = assignedCounts();
    let assigned = false;
    const queued = [...model.jobs.values()].filter((j) => j.status === 'queued').sort((a, b) => a.createdAt - b.createdAt || a.id - b.id);
    for (const job of queued) {
      const t = tracked.get(job.id);
      // (An announced job is assigned directly once the mode is switched to auto.)
      const open = !t || t.state === 'waiting' || (t.state === 'available' && timing.acquire === 'auto');
      if (!open || (t && t.notBefore > t0)) continue;
      const ss = belongsTo(job);
      if (!ss) continue;
      if (timing.acquire === 'auto') {
        // Only to a scale set with a listener that told its capacity (X-ScaleSetMaxCapacity), and under it. That GitHub
        // does not assign to a scale set without a session is the simulator's (stricter) assumption.
        const count = counts.get(ss.id) ?? 0;
        if (!ss.session || ss.capacity === undefined || count >= ss.capacity) continue;
        const tr = track(job);
        if (tr.state !== 'available') newRunnerRequest(tr);
        assignTo(ss, job, tr);
        counts.set(ss.id, count + 1);
        assigned = true;
      } else {
        const tr = track(job);
        newRunnerRequest(tr);
        tr.state = 'available';
        tr.scaleSetId = ss.id;
        emit(ss, jobMessage('JobAvailable', job, tr, { acquireJobUrl: `${brokerBase()}_apis/runtime/runnerscalesets/${ss.id}/acquirejobs` }));
      }
    }
    if (assigned) model.requestAssignment();
  };

  const schedulePump = () => {
    if (pumpScheduled) return;
    pumpScheduled = true;
    setImmediate(() => {
      pumpScheduled = false;
      pump();
    });
  };
  const ticker = setInterval(pump, 100);

  const onJobEvent = ({ job, action }: JobEvent) => {
    if (scaleSets.size === 0 && tracked.size === 0) return;
    const t = tracked.get(job.id);
    if (action === 'in_progress' && t?.state === 'assigned') {
      const runner = job.runnerId === undefined ? undefined : model.runners.get(job.runnerId);
      const ss = t.scaleSetId === undefined ? undefined : scaleSets.get(t.scaleSetId);
      if (runner && ss && runner.scaleSetId === ss.id) {
        t.state = 'started';
        t.runnerAssignTime = now();
        t.runnerId = runner.id;
        t.runnerName = runner.name;
        emit(ss, jobMessage('JobStarted', job, t, { runnerId: runner.id, runnerName: runner.name }));
      }
    } else if (action === 'completed' && t) {
      const ss = t.scaleSetId === undefined ? undefined : scaleSets.get(t.scaleSetId);
      if (ss && t.state === 'started')
        emit(
          ss,
          jobMessage('JobCompleted', job, t, { result: resultOf(job.conclusion), runnerId: t.runnerId, runnerName: t.runnerName, finishTime: iso(now()) }),
        );
      // Cancelled while assigned and not started: the same shape as a withdrawal (clients cannot tell them apart).
      else if (ss && t.state === 'assigned') emit(ss, jobMessage('JobCompleted', job, t, { result: 'canceled', finishTime: iso(now()) }));
      // Never assigned (queued, or only announced as JobAvailable): no message.
      tracked.delete(job.id);
      if (t.runnerRequestId !== undefined) byRunnerRequest.delete(t.runnerRequestId);
    }
    schedulePump();
  };

  /** The assignment rule's filter: scale-set jobs only to their scale set's runners, its runners only to those. */
  const eligible = (runner: SimRunner, job: SimJob): boolean => {
    if (scaleSets.size === 0 && tracked.size === 0 && runner.scaleSetId === undefined) return true;
    const t = tracked.get(job.id);
    if (runner.scaleSetId !== undefined) return t?.state === 'assigned' && t.scaleSetId === runner.scaleSetId;
    if (t && (t.state === 'assigned' || t.state === 'available')) return false;
    return belongsTo(job) === undefined;
  };

  const statistics = (ss: ScaleSet): Statistics => {
    const s: Statistics = {
      totalAvailableJobs: 0,
      totalAcquiredJobs: 0,
      totalAssignedJobs: 0,
      totalRunningJobs: 0,
      totalRegisteredRunners: 0,
      totalBusyRunners: 0,
      totalIdleRunners: 0,
    };
    for (const job of model.jobs.values()) {
      if (job.status === 'completed') continue;
      const t = tracked.get(job.id);
      if (t?.scaleSetId === ss.id) {
        // Unknown: what the service counts as "acquired"; the simulator says assigned and not yet started.
        if (t.state === 'available') s.totalAvailableJobs++;
        if (t.state === 'assigned') s.totalAcquiredJobs++;
        if (t.state === 'assigned' || t.state === 'started') s.totalAssignedJobs++;
        if (t.state === 'started') s.totalRunningJobs++;
      } else if (job.status === 'queued' && (!t || t.state === 'waiting') && belongsTo(job) === ss) {
        // Waiting for capacity (or for the requeue delay): available to the scale set, not assigned.
        s.totalAvailableJobs++;
      }
    }
    for (const runner of model.runners.values()) {
      if (runner.scaleSetId !== ss.id) continue;
      s.totalRegisteredRunners++;
      if (runner.busy) s.totalBusyRunners++;
      else if (runner.status === 'online') s.totalIdleRunners++;
    }
    return s;
  };

  const groupName = (id: number) => model.runnerGroups.find((g) => g.id === id)?.name ?? `group-${id}`;
  const scaleSetBody = (ss: ScaleSet) => ({
    id: ss.id,
    name: ss.name,
    runnerGroupId: ss.runnerGroupId,
    runnerGroupName: groupName(ss.runnerGroupId),
    labels: ss.labels.map((l) => ({ ...l })),
    RunnerSetting: { ...ss.runnerSetting }, // capital R, as SS types.go and ARC-old types.go tag it
    createdOn: new Date(ss.createdOn).toISOString(),
    runnerJitConfigUrl: `${brokerBase()}_apis/runtime/runnerscalesets/${ss.id}/generatejitconfig`,
    statistics: statistics(ss),
  });
  const queueUrl = (ss: ScaleSet, s: Session) => `${url()}/broker/mq/${ss.id}/${s.id}`;
  const sessionBody = (ss: ScaleSet, s: Session) => ({
    sessionId: s.id,
    ownerName: s.owner,
    runnerScaleSet: scaleSetBody(ss),
    messageQueueUrl: queueUrl(ss, s),
    messageQueueAccessToken: s.token,
    statistics: statistics(ss),
  });

  const mintQueueToken = (ss: ScaleSet, s: Session) => {
    s.token = `mq_${randomBytes(24).toString('base64url')}`;
    mqTokens.set(s.token, { scaleSetId: ss.id, sessionId: s.id, expiresAt: now() + timing.messageQueueTokenTtlMs });
  };

  const deleteScaleSet = (id: number): boolean => {
    const ss = scaleSets.get(id);
    if (!ss) return false;
    scaleSets.delete(id);
    endSession(ss); // open polls wake and find the scale set gone (404)
    ss.pending = [];
    ss.unacked = [];
    // Jobs assigned to it (or announced to it) and not started are queued again; a started one runs on.
    for (const t of tracked.values())
      if (t.scaleSetId === id && (t.state === 'assigned' || t.state === 'available')) {
        t.state = 'waiting';
        t.scaleSetId = undefined;
        t.scaleSetAssignTime = undefined;
        t.notBefore = 0;
      }
    // Its idle runners (online or not) are removed; a busy one finishes its job and de-registers (ephemeral).
    for (const runner of [...model.runners.values()]) if (runner.scaleSetId === id && !runner.busy) model.deleteRunner(runner);
    schedulePump();
    model.requestAssignment();
    return true;
  };

  // --- authentication --------------------------------------------------------------------------------------------

  const authorization = (r: Request, scheme: string) => new RegExp(`^${scheme}\\s+(\\S+)$`, 'i').exec(String(r.headers.authorization ?? ''))?.[1];

  const signAdminToken = (record: ScopedToken): string => {
    const jti = randomUUID();
    adminTokens.set(jti, record);
    const header = b64url({ alg: 'HS256', typ: 'JWT' });
    const payload = b64url({
      iss: 'sim-actions-service',
      aud: 'actions-broker',
      sub: `${record.scope.kind}:${scopeName(record.scope)}`,
      scp: 'Actions.RunnerScaleSets',
      jti,
      iat: Math.floor(now() / 1000),
      nbf: Math.floor(now() / 1000),
      // Clients read exp without verifying and refresh a minute early (SS client.go updateTokenIfNeeded).
      exp: Math.floor(record.expiresAt / 1000),
    });
    const signature = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
    return `${header}.${payload}.${signature}`;
  };

  const verifyAdminToken = (token: string | undefined): ScopedToken | undefined => {
    const parts = token?.split('.') ?? [];
    if (parts.length !== 3) return undefined;
    const expected = createHmac('sha256', secret).update(`${parts[0]}.${parts[1]}`).digest();
    const given = Buffer.from(parts[2]!, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    let jti: unknown;
    try {
      jti = (JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as { jti?: unknown }).jti;
    } catch {
      return undefined;
    }
    const record = typeof jti === 'string' ? adminTokens.get(jti) : undefined;
    return record && record.expiresAt > now() ? record : undefined;
  };

  /** Broker routes with the admin bearer: `?api-version=6.0-preview` first, then the token. */
  const withAdmin =
    (handler: (r: Request, token: ScopedToken) => Reply | Promise<Reply>) =>
    (r: Request): Reply | Promise<Reply> => {
      const version = versionCheck(r);
      if (version) return version;
      const token = verifyAdminToken(authorization(r, 'Bearer'));
      if (!token) return brokerError(401, UNAUTHORIZED, 'The admin token is missing, invalid or expired.');
      return handler(r, token);
    };

  /*
   * Every Actions-service request carries the api-version query (SS client.go newActionsServiceRequest). The real
   * service may also take it from the Accept header; the simulator insists on the query, exactly this version (stricter).
   */
  const versionCheck = (r: Request): Reply | undefined => {
    const version = r.query.get('api-version');
    if (version === API_VERSION) return undefined;
    return brokerError(
      400,
      VERSION_MISSING,
      version === null
        ? `No api-version was supplied for the "${r.method}" request. The version must be supplied as a query parameter (e.g. "?api-version=${API_VERSION}").`
        : `The requested REST API version of ${version} is not supported: use ${API_VERSION}.`,
    );
  };

  const notFound = (id: string | number) => brokerError(404, SCALE_SET_NOT_FOUND, `No runner scale set found with identifier ${id}.`);

  /** The scale set a route names, visible in the admin token's scope (another scope's is not found either). */
  const scaleSetIn = (r: Request, token: ScopedToken): ScaleSet | Reply => {
    const ss = scaleSets.get(Number(r.params.scale_set_id));
    return ss && sameScope(ss.scope, token.scope) ? ss : notFound(r.params.scale_set_id!);
  };

  /**
   * The message-queue bearer: unknown or expired token → 401; the scale set gone → 404 (RunnerScaleSetNotFound on every
   * route naming it); the token's session ended (deleted, reaped, refreshed away) → 401.
   */
  const queueAuth = (r: Request, sessionId?: string): { ss: ScaleSet; session: Session } | Reply => {
    const token = authorization(r, 'Bearer');
    const record = token ? mqTokens.get(token) : undefined;
    if (!record || record.expiresAt <= now()) return brokerError(401, UNAUTHORIZED, 'The message queue token is missing, invalid or expired.');
    const ss = scaleSets.get(Number(r.params.scale_set_id));
    if (!ss) return notFound(r.params.scale_set_id!);
    reapIfIdle(ss);
    const session = ss.session;
    if (record.scaleSetId !== ss.id || !session || session.id !== record.sessionId || (sessionId !== undefined && sessionId !== session.id))
      return brokerError(401, UNAUTHORIZED, 'The message queue token does not belong to an active session of this runner scale set.');
    return { ss, session };
  };

  // --- REST side: registration token and the Actions service admin connection ------------------------------------

  const scopes: { prefix: string; scope: (p: Record<string, string>) => Scope }[] = [
    { prefix: '/orgs/{owner}', scope: (p) => ({ kind: 'org', org: p.owner! }) },
    { prefix: '/repos/{owner}/{repo}', scope: (p) => ({ kind: 'repo', owner: p.owner!, repo: p.repo! }) },
  ];
  for (const { prefix, scope } of scopes) {
    router.on('POST', `${prefix}/actions/runners/registration-token`, (r) => {
      const auth = deps.asInstallation(r, r.params.owner!);
      if (isReply(auth)) return auth;
      // GitHub's look: 29 upper-case base32 characters (REST docs example "LLBF3JGZDX3P5PMEXLND6TS6FCWO6").
      const token = randomBytes(24)
        .toString('hex')
        .toUpperCase()
        .replace(/[^A-Z2-7]/g, '')
        .padEnd(29, 'A')
        .slice(0, 29);
      const expiresAt = now() + timing.registrationTokenTtlMs;
      registrationTokens.set(token, { scope: scope(r.params), installationId: auth.installationId, expiresAt });
      return { status: 201, body: { token, expires_at: new Date(expiresAt).toISOString() } };
    });
  }

  /*
   * `POST /actions/runner-registration` (SS client.go getActionsServiceAdminConnection): `RemoteAuth <registration
   * token>`, body {url: config URL, runner_event: "register"}. The config URL's scope must be the token's: the real
   * service's answer to a mismatch is unknown; the simulator refuses with 403.
   */
  router.on('POST', '/actions/runner-registration', (r) => {
    const token = authorization(r, 'RemoteAuth');
    const record = token ? registrationTokens.get(token) : undefined;
    if (!record || record.expiresAt <= now()) return error(401, 'Bad credentials: the registration token is unknown or expired');
    const parsed = registrationSpec.safeParse(r.body);
    if (!parsed.success) return error(400, `Invalid request: ${issues(parsed.error)}`);
    if (parsed.data.runner_event !== 'register') return error(400, `Unsupported runner_event "${parsed.data.runner_event}": expected "register"`);
    let config: URL;
    try {
      config = new URL(parsed.data.url.replace(/\/+$/, ''));
    } catch {
      return error(400, `Invalid configuration URL "${parsed.data.url}"`);
    }
    if (config.origin !== 'https://github.com' && config.origin !== url())
      return error(400, `Invalid configuration URL "${parsed.data.url}": its host must be https://github.com or ${url()}`);
    const segments = config.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    if (segments[0]?.toLowerCase() === 'enterprises') return error(400, 'Enterprise runner scale sets are not simulated');
    const target: Scope | undefined =
      segments.length === 1
        ? { kind: 'org', org: segments[0]! }
        : segments.length === 2
          ? { kind: 'repo', owner: segments[0]!, repo: segments[1]! }
          : undefined;
    if (!target) return error(400, `Invalid configuration URL "${parsed.data.url}": expected <host>/<org> or <host>/<owner>/<repo>`);
    if (!sameScope(target, record.scope))
      return error(403, `The registration token is for ${scopeName(record.scope)}, not for ${scopeName(target)} (the configuration URL)`);
    const admin = signAdminToken({ scope: record.scope, installationId: record.installationId, expiresAt: now() + timing.adminTokenTtlMs });
    return { status: 201, body: { url: brokerBase(), token: admin } };
  });

  // --- Actions service: scale sets and runner groups -----------------------------------------------------------------

  const SETS = '/broker/rest/_apis/runtime/runnerscalesets';
  const groupExists = (scope: Scope, id: number) => model.runnerGroups.some((g) => g.id === id) && (scope.kind === 'org' || id === 1);
  const nameTaken = (scope: Scope, groupId: number, name: string, except?: number) =>
    [...scaleSets.values()].some(
      (s) => s.id !== except && sameScope(s.scope, scope) && s.runnerGroupId === groupId && s.name.toLowerCase() === name.toLowerCase(),
    );
  /** Labels default to the scale set's name; a label without a type is a System one (SS client.go ensureLabels, applyDefaultLabelTypes). */
  const labelsOf = (labels: z.infer<typeof labelSpec> | null | undefined, name: string) =>
    labels && labels.length > 0 ? labels.map((l) => ({ type: l.type || 'System', name: l.name })) : [{ type: 'System', name }];

  router.on(
    'GET',
    SETS,
    withAdmin((r, token) => {
      const group = r.query.get('runnerGroupId');
      const name = r.query.get('name');
      const value = [...scaleSets.values()]
        .filter((s) => sameScope(s.scope, token.scope))
        .filter((s) => group === null || s.runnerGroupId === Number(group))
        .filter((s) => name === null || s.name.toLowerCase() === name.toLowerCase())
        .map(scaleSetBody);
      return { status: 200, body: { count: value.length, value } };
    }),
  );
  router.on(
    'GET',
    `${SETS}/{scale_set_id}`,
    withAdmin((r, token) => {
      const ss = scaleSetIn(r, token);
      return isReply(ss) ? ss : { status: 200, body: scaleSetBody(ss) };
    }),
  );
  // Create answers 200, not 201 (SS client.go CreateRunnerScaleSet).
  router.on(
    'POST',
    SETS,
    withAdmin((r, token) => {
      const parsed = createSpec.safeParse(r.body);
      if (!parsed.success) return brokerError(400, ARGUMENT, `Invalid runner scale set: ${issues(parsed.error)}`);
      const { name } = parsed.data;
      const runnerGroupId = parsed.data.runnerGroupId || 1;
      if (!groupExists(token.scope, runnerGroupId)) return brokerError(404, GROUP_NOT_FOUND, `Runner group ${runnerGroupId} not found.`);
      // Names are unique within a runner group (SS client.go CreateRunnerScaleSet doc comment); the status is unknown: 409.
      if (nameTaken(token.scope, runnerGroupId, name))
        return brokerError(409, SCALE_SET_EXISTS, `A runner scale set named ${name} already exists in runner group ${groupName(runnerGroupId)}.`);
      const ss: ScaleSet = {
        id: nextScaleSetId++,
        name,
        runnerGroupId,
        labels: labelsOf(parsed.data.labels, name),
        runnerSetting: { ...(parsed.data.RunnerSetting ?? parsed.data.runnerSetting ?? {}) },
        createdOn: now(),
        scope: token.scope,
        pending: [],
        unacked: [],
        nextMessageId: 1,
        waiters: new Set(),
      };
      scaleSets.set(ss.id, ss);
      schedulePump();
      return { status: 200, body: scaleSetBody(ss) };
    }),
  );
  // Partial update (ARC sends {runnerGroupId} or {name}; SS adds "RunnerSetting":{} and a zero createdOn, ignored).
  router.on(
    'PATCH',
    `${SETS}/{scale_set_id}`,
    withAdmin((r, token) => {
      const ss = scaleSetIn(r, token);
      if (isReply(ss)) return ss;
      const parsed = patchSpec.safeParse(r.body ?? {});
      if (!parsed.success) return brokerError(400, ARGUMENT, `Invalid runner scale set: ${issues(parsed.error)}`);
      const name = parsed.data.name ?? ss.name;
      const runnerGroupId = parsed.data.runnerGroupId || ss.runnerGroupId;
      if (!groupExists(ss.scope, runnerGroupId)) return brokerError(404, GROUP_NOT_FOUND, `Runner group ${runnerGroupId} not found.`);
      if (nameTaken(ss.scope, runnerGroupId, name, ss.id))
        return brokerError(409, SCALE_SET_EXISTS, `A runner scale set named ${name} already exists in runner group ${groupName(runnerGroupId)}.`);
      ss.name = name;
      ss.runnerGroupId = runnerGroupId;
      if (parsed.data.labels && parsed.data.labels.length > 0) ss.labels = labelsOf(parsed.data.labels, name);
      const setting = parsed.data.RunnerSetting ?? parsed.data.runnerSetting;
      if (setting?.disableUpdate !== undefined) ss.runnerSetting.disableUpdate = setting.disableUpdate;
      schedulePump();
      return { status: 200, body: scaleSetBody(ss) };
    }),
  );
  // Deleted by its client: the same consequences as a deletion on GitHub's side (the real service's are unknown).
  router.on(
    'DELETE',
    `${SETS}/{scale_set_id}`,
    withAdmin((r, token) => {
      const ss = scaleSetIn(r, token);
      if (isReply(ss)) return ss;
      deleteScaleSet(ss.id);
      return { status: 204 };
    }),
  );
  // SS client.go GetRunnerGroupByName asks `runnergroups/?groupName=` (a slash before the query); both forms answer.
  for (const path of ['/broker/rest/_apis/runtime/runnergroups/', '/broker/rest/_apis/runtime/runnergroups'])
    router.on(
      'GET',
      path,
      withAdmin((r, token) => {
        const name = r.query.get('groupName');
        const value = model.runnerGroups
          .filter((g) => token.scope.kind === 'org' || g.id === 1)
          .filter((g) => name === null || g.name.toLowerCase() === name.toLowerCase())
          .map((g) => ({
            id: g.id,
            name: g.name,
            size: [...model.runners.values()].filter((x) => x.groupId === g.id && sameScope(x.scope, token.scope)).length,
            isDefaultGroup: g.default,
          }));
        return { status: 200, body: { count: value.length, value } };
      }),
    );

  // --- sessions ------------------------------------------------------------------------------------------------------

  const conflict = (ss: ScaleSet, owner: string) => {
    counters.sessionConflicts++;
    return brokerError(409, SESSION_CONFLICT, `The actions runner scaleset ${ss.name} already has an active session for owner ${owner}.`);
  };

  // Create answers 200 (SS session_client.go createMessageSession). One session per scale set.
  router.on(
    'POST',
    `${SETS}/{scale_set_id}/sessions`,
    withAdmin((r, token) => {
      const ss = scaleSetIn(r, token);
      if (isReply(ss)) return ss;
      const parsed = sessionSpec.safeParse(r.body);
      if (!parsed.success) return brokerError(400, ARGUMENT, `Invalid session: ${issues(parsed.error)}`);
      reapIfIdle(ss);
      if (faults.sessionConflicts > 0) {
        faults.sessionConflicts--;
        return conflict(ss, `${parsed.data.ownerName}-other`);
      }
      if (ss.session) return conflict(ss, ss.session.owner);
      // The client's sessionId (SS sends the zero UUID) is ignored: the service names the session.
      const session: Session = { id: randomUUID(), owner: parsed.data.ownerName, token: '', createdAt: now(), openPolls: 0 };
      mintQueueToken(ss, session);
      ss.session = session;
      counters.sessionsCreated++;
      return { status: 200, body: sessionBody(ss, session) };
    }),
  );
  // Refresh: no body; a full session with a new queue token (SS session_client.go refreshMessageSession). The old token
  // stops working at once (unknown; stricter than letting it live on).
  router.on(
    'PATCH',
    `${SETS}/{scale_set_id}/sessions/{session_id}`,
    withAdmin((r, token) => {
      const ss = scaleSetIn(r, token);
      if (isReply(ss)) return ss;
      reapIfIdle(ss);
      const session = ss.session;
      if (!session || session.id !== r.params.session_id)
        return brokerError(404, SESSION_UNKNOWN, `runner referenced a session ID that doesn't exist: ${r.params.session_id}`);
      mqTokens.delete(session.token);
      mintQueueToken(ss, session);
      return { status: 200, body: sessionBody(ss, session) };
    }),
  );
  router.on(
    'DELETE',
    `${SETS}/{scale_set_id}/sessions/{session_id}`,
    withAdmin((r, token) => {
      const ss = scaleSetIn(r, token);
      if (isReply(ss)) return ss;
      reapIfIdle(ss);
      if (!ss.session || ss.session.id !== r.params.session_id)
        return brokerError(400, SESSION_EXPIRED, `The session identifier ${r.params.session_id} is not valid.`);
      endSession(ss);
      return { status: 204 };
    }),
  );

  // --- message queue -------------------------------------------------------------------------------------------------

  /** The first unacknowledged message after `last`; else a new one of up to 50 pending job messages; else none. */
  const nextMessage = (ss: ScaleSet, last: number): QueueMessage | undefined => {
    const unacked = ss.unacked.find((m) => m.id > last);
    if (unacked) return unacked;
    if (ss.pending.length === 0) return undefined;
    const message: QueueMessage = { id: ss.nextMessageId++, jobMessages: ss.pending.splice(0, MAX_JOB_MESSAGES), deliveries: 0 };
    ss.unacked.push(message);
    return message;
  };

  /*
   * GET {messageQueueUrl}[?lastMessageId=n] (SS session_client.go getMessage): no api-version query; the version in
   * `Accept: application/json; api-version=6.0-preview`; `X-ScaleSetMaxCapacity` an integer ≥ 0 (SS README: "so the
   * backend can assign jobs accurately"). 200 with a message, 202 with no body after the long poll.
   */
  router.on('GET', '/broker/mq/{scale_set_id}/{session_id}', async (r) => {
    const first = queueAuth(r, r.params.session_id);
    if (isReply(first)) return first;
    const accept = String(r.headers.accept ?? '');
    if (!/application\/json/i.test(accept) || !new RegExp(`api-version=${API_VERSION.replace('.', '\\.')}`, 'i').test(accept))
      return brokerError(400, VERSION_MISSING, `The message queue wants "Accept: application/json; api-version=${API_VERSION}".`);
    const capacityHeader = r.headers['x-scalesetmaxcapacity'];
    if (typeof capacityHeader !== 'string' || !/^\s*\d{1,9}\s*$/.test(capacityHeader))
      return brokerError(400, ARGUMENT, 'The X-ScaleSetMaxCapacity header must be an integer of at least 0.');
    const lastParam = r.query.get('lastMessageId');
    if (lastParam !== null && !/^\d{1,15}$/.test(lastParam)) return brokerError(400, ARGUMENT, 'lastMessageId must be an integer of at least 0.');
    const last = Number(lastParam ?? 0);
    const { session } = first;
    first.ss.capacity = Number(capacityHeader);
    session.lastPollAt = now();
    pump();
    const deadline = now() + timing.longPollMs;
    session.openPolls++;
    try {
      for (;;) {
        const current = queueAuth(r, r.params.session_id);
        if (isReply(current)) return current;
        const message = nextMessage(current.ss, last);
        if (message) {
          message.deliveries++;
          counters.messagesDelivered++;
          if (message.deliveries > 1) counters.messagesRedelivered++;
          return {
            status: 200,
            body: {
              messageId: message.id,
              messageType: 'RunnerScaleSetJobMessages',
              body: JSON.stringify(message.jobMessages),
              statistics: statistics(current.ss),
            },
          };
        }
        const remaining = deadline - now();
        if (remaining <= 0 || stopped) return { status: 202 };
        const outcome = await new Promise<'wake' | 'timeout' | 'closed'>((resolve) => {
          const timer = setTimeout(() => finish('timeout'), remaining);
          const finish = (how: 'wake' | 'timeout' | 'closed') => {
            clearTimeout(timer);
            current.ss.waiters.delete(onWake);
            resolve(how);
          };
          const onWake = () => finish('wake');
          current.ss.waiters.add(onWake);
          r.closed.then(
            () => finish('closed'),
            () => undefined,
          );
        });
        if (outcome !== 'wake') return { status: 202 };
      }
    } finally {
      session.openPolls--;
      session.lastPollAt = now();
    }
  });

  // Ack: DELETE {messageQueueUrl}/{messageId} with the queue bearer → 204 (SS session_client.go deleteMessage).
  router.on('DELETE', '/broker/mq/{scale_set_id}/{session_id}/{message_id}', (r) => {
    const auth = queueAuth(r, r.params.session_id);
    if (isReply(auth)) return auth;
    const index = auth.ss.unacked.findIndex((m) => String(m.id) === r.params.message_id);
    if (index < 0) return brokerError(404, MESSAGE_NOT_FOUND, `No message ${r.params.message_id} to acknowledge.`);
    auth.ss.unacked.splice(index, 1);
    return { status: 204 };
  });

  /*
   * acquirejobs (SS session_client.go acquireJobs): the Actions service path and api-version, but the queue token as
   * bearer; body a bare array of runner request ids; 200 {count, value: acquired ids}. Only jobs announced to this
   * scale set (JobAvailable) are acquired, while its assigned jobs stay under its capacity; an id already acquired is
   * not reported again (unknown; stricter than idempotent).
   */
  router.on('POST', `${SETS}/{scale_set_id}/acquirejobs`, (r) => {
    const version = versionCheck(r);
    if (version) return version;
    const auth = queueAuth(r);
    if (isReply(auth)) return auth;
    const ids = z.array(z.int()).safeParse(r.body);
    if (!ids.success) return brokerError(400, ARGUMENT, 'The body must be a JSON array of runner request ids.');
    const { ss } = auth;
    let count = assignedCounts().get(ss.id) ?? 0;
    const acquired: number[] = [];
    for (const id of ids.data) {
      const jobId = byRunnerRequest.get(id);
      const t = jobId === undefined ? undefined : tracked.get(jobId);
      const job = jobId === undefined ? undefined : model.jobs.get(jobId);
      if (!t || !job || t.state !== 'available' || t.scaleSetId !== ss.id || job.status !== 'queued') continue;
      if (ss.capacity === undefined || count >= ss.capacity) break;
      assignTo(ss, job, t);
      count++;
      counters.acquired++;
      acquired.push(id);
    }
    if (acquired.length > 0) model.requestAssignment();
    return { status: 200, body: { count: acquired.length, value: acquired } };
  });

  // --- runners -------------------------------------------------------------------------------------------------------

  /*
   * generatejitconfig (SS client.go GenerateJitRunnerConfig): registers a runner as REST generate-jitconfig does (the
   * same JIT format and size, registration limit, name uniqueness per scope), with the scale set's labels and group.
   */
  router.on(
    'POST',
    `${SETS}/{scale_set_id}/generatejitconfig`,
    withAdmin((r, token) => {
      const ss = scaleSetIn(r, token);
      if (isReply(ss)) return ss;
      const parsed = jitSpec.safeParse(r.body);
      if (!parsed.success) return brokerError(400, ARGUMENT, `Invalid runner: ${issues(parsed.error)}`);
      const limited = deps.registrationLimit(ss.scope);
      if (limited) {
        const message = (limited.body as { message?: string } | undefined)?.message ?? 'Too many runner registrations';
        return brokerError(limited.status, `${TASK}.TaskAgentRegistrationLimitException`, message, limited.headers);
      }
      const runner = model.registerRunner(
        ss.scope,
        parsed.data.name,
        ss.labels.map((l) => l.name),
        ss.runnerGroupId,
      );
      if (runner === 'conflict') return brokerError(409, AGENT_EXISTS, `A runner with the name ${parsed.data.name} already exists.`);
      runner.scaleSetId = ss.id;
      const encodedJITConfig = encodeJitConfig(
        { url: url(), runnerId: runner.id, runnerName: runner.name, secret: runner.secret, runnerGroupId: ss.runnerGroupId },
        deps.jitMinBytes(),
      );
      return { status: 200, body: { runner: { id: runner.id, name: runner.name, runnerScaleSetId: ss.id }, encodedJITConfig } };
    }),
  );

  // Agents (SS client.go runnerEndpoint `_apis/distributedtask/pools/0/agents`): every runner of the token's scope.
  const AGENTS = '/broker/rest/_apis/distributedtask/pools/0/agents';
  const reference = (x: SimRunner) => ({ id: x.id, name: x.name, runnerScaleSetId: x.scaleSetId ?? 0 });
  const agentIn = (r: Request, token: ScopedToken): SimRunner | Reply => {
    const runner = model.runners.get(Number(r.params.runner_id));
    return runner && sameScope(runner.scope, token.scope) ? runner : brokerError(404, AGENT_NOT_FOUND, `No agent found with identifier ${r.params.runner_id}.`);
  };
  router.on(
    'GET',
    AGENTS,
    withAdmin((r, token) => {
      const name = r.query.get('agentName');
      const value = [...model.runners.values()].filter((x) => sameScope(x.scope, token.scope) && (name === null || x.name === name)).map(reference);
      return { status: 200, body: { count: value.length, value } };
    }),
  );
  router.on(
    'GET',
    `${AGENTS}/{runner_id}`,
    withAdmin((r, token) => {
      const runner = agentIn(r, token);
      return isReply(runner) ? runner : { status: 200, body: reference(runner) };
    }),
  );
  router.on(
    'DELETE',
    `${AGENTS}/{runner_id}`,
    withAdmin((r, token) => {
      const runner = agentIn(r, token);
      if (isReply(runner)) return runner;
      return model.deleteRunner(runner) === 'busy'
        ? brokerError(400, JOB_STILL_RUNNING, `The runner ${runner.name} is still running job ${runner.jobId ?? ''}.`)
        : { status: 204 };
    }),
  );

  // --- control and inspection ----------------------------------------------------------------------------------------

  const expireTokens = (kind: 'admin' | 'message-queue') => {
    for (const record of (kind === 'admin' ? adminTokens : mqTokens).values()) record.expiresAt = Math.min(record.expiresAt, now());
  };
  const inspect = (): ScaleSetView[] =>
    [...scaleSets.values()].map((ss) => ({
      id: ss.id,
      name: ss.name,
      scope: ss.scope,
      runnerGroupId: ss.runnerGroupId,
      labels: ss.labels.map((l) => ({ ...l })),
      session: ss.session
        ? {
            id: ss.session.id,
            owner: ss.session.owner,
            createdAt: new Date(ss.session.createdAt).toISOString(),
            lastPollAt: iso(ss.session.lastPollAt) ?? null,
            openPolls: ss.session.openPolls,
          }
        : null,
      capacity: ss.capacity ?? null,
      pendingJobMessages: [...ss.pending],
      unackedMessageIds: ss.unacked.map((m) => m.id),
      statistics: statistics(ss),
    }));

  router.on('GET', '/_sim/scale-sets', () => ({ status: 200, body: inspect() }));
  router.on('PUT', '/_sim/scale-sets/timing', (r) => {
    const parsed = scaleSetTimingSpec.safeParse(r.body ?? {});
    if (!parsed.success) return error(422, parsed.error.message);
    timing = { ...timing, ...parsed.data };
    schedulePump();
    return { status: 200, body: timing };
  });
  router.on('PUT', '/_sim/scale-sets/faults', (r) => {
    const parsed = faultSpec.safeParse(r.body ?? {});
    if (!parsed.success) return error(422, parsed.error.message);
    const { expireTokens: expire, ...rest } = parsed.data;
    Object.assign(faults, rest);
    if (expire) expireTokens(expire);
    return { status: 200, body: faults };
  });
  router.on('DELETE', '/_sim/scale-sets/{id}', (r) =>
    deleteScaleSet(Number(r.params.id)) ? { status: 200, body: { id: Number(r.params.id), deleted: true } } : error(404, 'Not Found'),
  );

  return {
    get timing() {
      return timing;
    },
    set timing(value: ScaleSetTiming) {
      timing = value;
    },
    faults,
    inspect,
    stats: () => ({ ...counters, jobMessages: { ...counters.jobMessages } }),
    deleteScaleSet,
    expireTokens,
    scaleSetJobIdOf: (jobId) => tracked.get(jobId)?.guid,
    onJobEvent,
    eligible,
    injectFault() {
      const forced = faults.failNext[0];
      let status: number | undefined;
      if (forced) {
        status = forced.status;
        if (--forced.count <= 0) faults.failNext.shift();
        // The PRNG is drawn only while the fault is on, so REST fault runs repeat whether or not the broker is used.
      } else if (faults.brokerServerError > 0 && deps.random() < faults.brokerServerError) status = [500, 502, 503][Math.floor(deps.random() * 3)];
      if (status === undefined) return undefined;
      counters.brokerFaultsInjected++;
      return brokerError(
        status,
        status >= 500 ? 'System.Exception' : ARGUMENT,
        status >= 500 ? 'The service is temporarily unavailable (injected).' : 'Injected failure.',
        status === 503 || status === 429 ? { 'retry-after': '1' } : undefined,
      );
    },
    stop() {
      stopped = true;
      clearInterval(ticker);
      for (const ss of scaleSets.values()) wake(ss);
    },
  };
}
