import {
  defaultRunnerLabels,
  isWarmJobId,
  ownsLaunch,
  RunnerBusyError,
  runnerScopeOf,
  type LaunchAttempt,
  type LaunchFailure,
  type DispatchStore,
  type JobRecord,
  type Runner,
  type LaunchMessage,
  type LaunchStore,
  type Pool,
  type PoolsConfig,
  type RunnerRegistration,
  type RunnerScope,
  type TeardownMessage,
} from '@runners/shared';
import { clientOfPool, type GitHubClient } from '@runners/shared/github';
import { ScaleSetApiError, ScaleSets, scaleSetTargetOf } from '@runners/shared/scaleset';
import { RequestError } from '@octokit/request-error';
import { STALE_CLAIM_MS } from './contract';
import { classifyLaunchError } from './launch-errors';
import type { Host } from './hosts/host';

/*
 * What an orchestrator does with one message. Launch: claim (conditional write, the record returned with it) → JIT
 * registration → host → one write recording both, conditional on the attempt still owning the record (the slot held,
 * the claim its own), so a redelivered or crashed launch resumes instead of launching twice (the next delivery finds
 * the registration of a crashed attempt by its name), and a launch that lost its slot meanwhile (a teardown freed it:
 * the job was cancelled or ran elsewhere) removes what it made instead of running a host no slot counts. Teardown: the
 * registration (unless GitHub says the runner is busy — its DELETE is the check — or it finished its job and is gone
 * already), the slot, then the host; idempotent. Powertools' batch processor runs a batch's records concurrently, so a
 * launch and a teardown of one runner do interleave: whichever order, the slot goes first and the host follows it.
 */

/** What an orchestrator asks of GitHub, as one App. */
export type OrchestratorGitHub = Pick<
  GitHubClient,
  'installationId' | 'generateJitConfig' | 'getRunner' | 'findRunnerByName' | 'deleteRunner' | 'rerunJob' | 'actionsServiceConnection'
>;

/** Each App's scale sets (pools with intake 'scaleset' register their runners there), for this process's life. */
const scaleSetsOfApp = new WeakMap<OrchestratorGitHub, ScaleSets>();
const scaleSetsOf = (client: OrchestratorGitHub) => {
  let scaleSets = scaleSetsOfApp.get(client);
  if (!scaleSets) scaleSetsOfApp.set(client, (scaleSets = new ScaleSets(client)));
  return scaleSets;
};

export interface OrchestratorPorts {
  readonly config: PoolsConfig;
  readonly host: Host;
  /** The GitHub App that sends the webhooks; it registers the runners of every pool that names no other. */
  readonly github: OrchestratorGitHub;
  /** The other Apps pools register their runners with (pools.githubApp), by name. */
  readonly githubApps?: ReadonlyMap<string, OrchestratorGitHub>;
  readonly launches: LaunchStore;
  /** Slots: freed by teardowns of idle runners; listed by the reconciler. */
  readonly slots: Pick<DispatchStore, 'releaseSlot' | 'slots'>;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly limits: OrchestratorLimits;
  /** The label every runner of this deployment carries (deploymentLabel), so no other deployment removes it. */
  readonly deploymentLabel?: string;
  /** Runs a named step of a launch (`jit-config`, `host-create`) as a subsegment of the job's trace; by default just runs it. */
  readonly step?: <T>(name: string, work: () => Promise<T>) => Promise<T>;
}

const untraced = <T>(_name: string, work: () => Promise<T>) => work();

export interface OrchestratorLimits {
  /** Host creation attempts within one launch, with back-off between them. */
  readonly hostAttempts: number;
  readonly hostRetryBaseMs: number;
  /** Launches of one job before giving up on it (each failed launch frees the slot and backs off). */
  readonly maxLaunchAttempts: number;
  /** Back-off before the publisher relaunches a failed job: base × 2^(failures-1). */
  readonly relaunchBaseMs: number;
  /** A claim older than this belongs to an attempt Lambda has stopped (longer than the orchestrator's timeout). */
  readonly staleClaimMs: number;
}

export const DEFAULT_LIMITS: OrchestratorLimits = {
  hostAttempts: 3,
  hostRetryBaseMs: 500,
  maxLaunchAttempts: 5,
  relaunchBaseMs: 30_000,
  staleClaimMs: STALE_CLAIM_MS,
};

export type LaunchOutcome = 'launched' | 'duplicate' | 'not-ours' | 'retry-later' | 'lost-ownership' | 'failed-will-retry' | 'failed-gave-up';
export type TeardownOutcome = 'torn-down' | 'busy';

/** What a teardown found out about the job its runner ran: its host was interrupted, and whether it was re-run. */
export interface TeardownFindings {
  interrupted?: { readonly newly: boolean; readonly rerun: boolean; readonly refused?: string };
}

export function scopeOf(config: PoolsConfig, owner: string, repo: string): RunnerScope {
  return runnerScopeOf(config.github.scope, owner, repo);
}

type AppPorts = Pick<OrchestratorPorts, 'config' | 'github' | 'githubApps'>;

/**
 * The App that registers `pool`'s runners, and its installation for a scope. A webhook carries the installation of
 * the App that sent it, the default one: only that App may use it; another App looks its own up (cached by its client).
 */
export function appFor(
  ports: AppPorts,
  pool: string | undefined,
): { readonly client: OrchestratorGitHub; installation(scope: RunnerScope, known?: number): Promise<number> } {
  const { client, isDefault } = clientOfPool(ports.config, pool, ports.github, ports.githubApps);
  return { client, installation: async (scope, known) => (isDefault && known !== undefined ? known : client.installationId(scope)) };
}

/** Where a recorded job's runners register, the App that registers them and its installation. */
async function runnersOf(job: JobRecord['job'], ports: AppPorts): Promise<{ scope: RunnerScope; installationId: number; client: OrchestratorGitHub }> {
  const scope = scopeOf(ports.config, job.owner, job.repo);
  const app = appFor(ports, job.pool);
  return { scope, installationId: await app.installation(scope, job.installationId), client: app.client };
}

/** The record's runner as GitHub shows it (undefined: not registered, or gone). */
export async function registeredRunnerOf(job: JobRecord, ports: AppPorts): Promise<Runner | undefined> {
  if (job.launchedRunnerId === undefined || job.job.owner === undefined) return undefined;
  const { scope, installationId, client } = await runnersOf(job.job, ports);
  return client.getRunner(installationId, scope, job.launchedRunnerId);
}

function poolOf(config: PoolsConfig, name: string): Pool {
  const pool = config.pools.find((p) => p.name === name);
  if (!pool) throw new Error(`message for unknown pool ${name}`);
  return pool;
}

export async function launch(message: LaunchMessage, ports: OrchestratorPorts): Promise<LaunchOutcome> {
  const { launches, host, limits, config } = ports;
  const pool = poolOf(config, message.pool);
  const attempt: LaunchAttempt = { jobId: message.jobId, runnerName: message.runnerName, claimedAtMs: ports.now() };
  const claim = await launches.claim(attempt, attempt.claimedAtMs - limits.staleClaimMs);
  if (claim.kind === 'created') return 'duplicate';
  if (claim.kind === 'not-ours') return 'not-ours';
  if (claim.kind === 'in-progress') return 'retry-later';

  const scope = scopeOf(config, message.owner, message.repo);
  let registered;
  try {
    registered = await register(message, pool, scope, attempt, claim.job.launchedRunnerId, ports);
  } catch (error) {
    // Permanent (no installation, no runner group, labels refused): given up now, its reason on the record, its slot
    // free. Transient: the message is retried (visibility timeout), the claim taken over once stale.
    const failure = classifyLaunchError(error);
    if (failure.kind === 'transient') throw error;
    await failLaunchOrFreeSlot(claim.job, message.runnerName, 'give-up', failure, ports);
    throw new LaunchFailedError(message.runnerName, true, failure, { cause: error });
  }
  if (registered === 'lost-ownership') return registered;
  const { installationId, jit, client } = registered;

  for (let hostAttempt = 1; hostAttempt <= limits.hostAttempts; hostAttempt++) {
    let created;
    try {
      created = await (ports.step ?? untraced)('host-create', () =>
        host.create({ runnerName: message.runnerName, pool, jobId: message.jobId, encodedJitConfig: jit.encodedJitConfig, traceHeader: message.traceHeader }),
      );
    } catch (error) {
      const failure = classifyLaunchError(error);
      if (hostAttempt === limits.hostAttempts || failure.kind === 'permanent') {
        // Out of attempts, or no attempt can succeed: the registration goes, the slot is freed, and the job waits out
        // a growing back-off before the publisher tries again — or, after maxLaunchAttempts or a permanent failure,
        // is given up (no endless paid loop).
        await deleteRegistration(client, installationId, scope, jit.runnerId);
        const failures = (claim.job.launchFailures ?? 0) + 1;
        const giveUp = failure.kind === 'permanent' || failures >= limits.maxLaunchAttempts;
        const outcome = giveUp ? 'give-up' : { retryAtMs: ports.now() + limits.relaunchBaseMs * 2 ** (failures - 1) };
        await failLaunchOrFreeSlot(claim.job, message.runnerName, outcome, failure, ports);
        throw new LaunchFailedError(message.runnerName, giveUp, failure, { cause: error });
      }
      await ports.sleep(limits.hostRetryBaseMs * 2 ** (hostAttempt - 1));
      continue;
    }
    if (await launches.recordHost(attempt, jit.runnerId, created.id, ports.now())) return 'launched';
    // The slot went while the registration and host were being made: a teardown ran before there was a host to remove.
    // This attempt removes them (no two attempts overlap: a claim is taken over only after the function's timeout) —
    // registration first: if its runner took a job meanwhile, GitHub refuses, and the host stays for that job (the
    // leaked-host rule removes it after).
    if ((await deleteRegistration(client, installationId, scope, jit.runnerId)) === 'busy') return 'lost-ownership';
    await host.delete(message.runnerName);
    return 'lost-ownership';
  }
  throw new Error('unreachable');
}

/**
 * The launch failed: its job back to the publisher (or given up), the failure on its record. A record whose job no
 * longer waits for this runner (it ran elsewhere or was cancelled meanwhile: the runner was a spare to be) only frees
 * the slot: no runner will ever hold it.
 */
async function failLaunchOrFreeSlot(
  job: JobRecord,
  runnerName: string,
  outcome: { readonly retryAtMs: number } | 'give-up',
  failure: LaunchFailure,
  ports: OrchestratorPorts,
): Promise<void> {
  if (await ports.launches.failLaunch(job, runnerName, outcome, ports.now(), failure)) return;
  await ports.slots.releaseSlot(job.jobId, runnerName, 'orchestrator', new Date(ports.now()));
}

/** The launch failed for good; the job is back with the publisher (or given up), the failure on its record. */
export class LaunchFailedError extends Error {
  constructor(
    readonly runnerName: string,
    readonly gaveUp: boolean,
    readonly failure: LaunchFailure,
    options?: ErrorOptions,
  ) {
    super(
      `could not launch ${runnerName} (${failure.kind}, ${failure.reason}: ${failure.message})${gaveUp ? '; giving up on the job' : '; the job goes back to the queue'}`,
      options,
    );
    this.name = 'LaunchFailedError';
  }
}

/**
 * Classifies the failed job as interrupted and, if its pool says so, re-runs it through GitHub — each once, whatever
 * number of times this teardown is delivered (conditional writes; the re-run released again if GitHub refused it).
 * `newly`: this call classified it (what the metric counts).
 */
async function classifyInterrupted(
  jobId: number,
  runnerName: string,
  pool: Pool,
  ports: OrchestratorPorts,
): Promise<{ newly: boolean; rerun: boolean; refused?: string } | undefined> {
  const newly = await ports.launches.classifyInterrupted(jobId, runnerName, ports.now());
  const finished = await ports.launches.job(jobId);
  if (finished?.failureClass !== 'interrupted') return undefined;
  // Once per job: a re-run is a new job (a new id, the run's next attempt); one that is interrupted in turn is not re-run.
  if (!pool.rerunInterruptedJobs || (finished.job.runAttempt ?? 1) > 1 || !(await ports.launches.claimRerun(jobId, ports.now())))
    return { newly, rerun: false };
  // A re-run is the repository's business, not a runner's: the default App's (its installation is the webhook's).
  const installationId =
    finished.job.installationId ?? (await ports.github.installationId({ kind: 'repo', owner: finished.job.owner, repo: finished.job.repo }));
  try {
    await ports.github.rerunJob(installationId, finished.job.owner, finished.job.repo, jobId);
  } catch (error) {
    await ports.launches.releaseRerun(jobId);
    // GitHub re-runs a job only once its run has finished ("already running" while other jobs run: try again with the
    // message's retry); any other refusal (no Actions: write) will not change: logged, not retried.
    if (error instanceof RequestError && error.status === 403 && !/already running|in progress/i.test(error.message))
      return { newly, rerun: false, refused: `GitHub refused the re-run: ${error.message}` };
    throw error;
  }
  return { newly, rerun: true };
}

/**
 * The installation, then the runner's JIT registration. Taking over a crashed attempt: its registration must go before
 * a new one takes the name. 409 (a registration of this name exists: an attempt that crashed before recording it):
 * replaced — unless this attempt was taken over meanwhile, and the registration is the live attempt's.
 */
async function register(
  message: LaunchMessage,
  pool: Pool,
  scope: RunnerScope,
  attempt: LaunchAttempt,
  staleRunnerId: number | undefined,
  ports: OrchestratorPorts,
) {
  const { config } = ports;
  const { client: github, installation } = appFor(ports, pool.name);
  const installationId = await installation(scope, message.installationId);
  if (staleRunnerId !== undefined) await deleteRegistration(github, installationId, scope, staleRunnerId);
  if (pool.intake === 'scaleset') return registerWithScaleSet(message, pool, attempt, { github, installationId }, ports);
  const labels = [...new Set([...defaultRunnerLabels(pool), ...pool.labels, ...(ports.deploymentLabel ? [ports.deploymentLabel] : [])])];
  const generate = () =>
    (ports.step ?? untraced)('jit-config', () =>
      github.generateJitConfig(installationId, scope, { name: message.runnerName, labels, runnerGroup: pool.runnerGroup ?? config.github.runnerGroup }),
    );
  try {
    return { installationId, client: github, jit: await generate() };
  } catch (error) {
    if (!(error instanceof RequestError && error.status === 409)) throw error;
    if (!ownsLaunch(await ports.launches.job(message.jobId), attempt)) return 'lost-ownership' as const;
    const stale = await github.findRunnerByName(installationId, scope, message.runnerName);
    if (stale) await deleteRegistration(github, installationId, scope, stale.id);
    return { installationId, client: github, jit: await generate() };
  }
}

/**
 * A scale-set pool's runner is a JIT runner of its scale set: GitHub gives it any job assigned to the scale set. A
 * name already registered (AgentExistsException: an attempt that crashed before recording it) is replaced, as above.
 */
async function registerWithScaleSet(
  message: LaunchMessage,
  pool: Pool,
  attempt: LaunchAttempt,
  app: { github: OrchestratorGitHub; installationId: number },
  ports: OrchestratorPorts,
) {
  const scaleSets = scaleSetsOf(app.github);
  const target = scaleSetTargetOf(ports.config, pool, ports.deploymentLabel);
  const generate = () => (ports.step ?? untraced)('jit-config', () => scaleSets.jitConfig(app.installationId, target, message.runnerName));
  try {
    return { installationId: app.installationId, client: app.github, jit: await generate() };
  } catch (error) {
    if (!(error instanceof ScaleSetApiError && error.is('AgentExistsException'))) throw error;
    if (!ownsLaunch(await ports.launches.job(message.jobId), attempt)) return 'lost-ownership' as const;
    await scaleSets.removeRunnerNamed(app.installationId, target, message.runnerName);
    return { installationId: app.installationId, client: app.github, jit: await generate() };
  }
}

async function deleteRegistration(
  github: OrchestratorGitHub,
  installationId: number,
  scope: RunnerScope,
  runnerId: number,
): Promise<'deleted' | 'absent' | 'busy'> {
  try {
    return await github.deleteRunner(installationId, scope, runnerId);
  } catch (error) {
    if (!(error instanceof RunnerBusyError)) throw error;
    return 'busy';
  }
}

/**
 * Removes the record's runner registration unless GitHub says it is busy — the one atomic "is it idle" check: a
 * runner without a registration can take no job, so what follows (freeing the slot, requeueing) cannot race a job.
 * `none`: it has no registration (never made, or gone).
 */
export async function retireRegistration(job: JobRecord, ports: AppPorts): Promise<'deleted' | 'none' | 'busy'> {
  if (job.launchedRunnerId === undefined || job.job.owner === undefined) return 'none';
  const { scope, installationId, client } = await runnersOf(job.job, ports);
  const outcome = await deleteRegistration(client, installationId, scope, job.launchedRunnerId);
  return outcome === 'absent' ? 'none' : outcome;
}

/**
 * Retires a runner that should go while idle (past its lifetime, never given its job, on a host being reclaimed): its
 * registration first (GitHub refuses while it is busy: then nothing is done), then — if the job it was launched for
 * still waits for it — that job is handed on (`handOn`: requeued or given up, with the reason), then the one teardown
 * (slot, host). `handedOn`: the job's record took it (it had not moved on meanwhile).
 */
export async function retireIdleRunner(
  job: JobRecord,
  runnerName: string,
  pool: Pick<Pool, 'name' | 'host' | 'os'>,
  reason: TeardownMessage['reason'],
  handOn: { readonly outcome: { readonly retryAtMs: number } | 'give-up'; readonly failure: LaunchFailure },
  ports: OrchestratorPorts,
): Promise<'busy' | { readonly handedOn: boolean }> {
  if ((await retireRegistration(job, ports)) === 'busy') return 'busy';
  const handedOn =
    job.state === 'dispatched' && !isWarmJobId(job.jobId) && (await ports.launches.failLaunch(job, runnerName, handOn.outcome, ports.now(), handOn.failure));
  await teardown({ action: 'teardown', reason, onlyIfIdle: true, pool: pool.name, host: pool.host, os: pool.os, runnerName, jobId: job.jobId }, ports);
  return { handedOn };
}

export async function teardown(message: TeardownMessage, ports: OrchestratorPorts, findings: TeardownFindings = {}): Promise<TeardownOutcome> {
  // A failed job's record says whether its host was interrupted; a message without the registration's whereabouts
  // (older senders, the host rules) reads it too. A finished runner needs neither: nothing to read.
  const job =
    message.reason === 'job-failed' || (message.reason !== 'finished' && message.registration === undefined)
      ? await ports.launches.job(message.jobId)
      : undefined;
  const outcome = await removeRunner(message, job, ports);
  // The job failed on this very runner's host, which was told it would be reclaimed: not the build's fault. After the
  // teardown, so that a re-run GitHub refuses never keeps a host or a registration.
  const interruption = job?.hostInterruption;
  if (
    message.reason === 'job-failed' &&
    interruption?.kind === 'spot-interruption' &&
    interruption.runnerName === message.runnerName &&
    message.finishedJobId !== undefined
  ) {
    findings.interrupted = await classifyInterrupted(message.finishedJobId, message.runnerName, poolOf(ports.config, message.pool), ports);
  }
  return outcome;
}

/** Where the runner is registered: from the message, else from the record holding its slot. */
function registrationOf(message: TeardownMessage, job: JobRecord | undefined): RunnerRegistration | undefined {
  if (message.registration) return message.registration;
  if (!job || job.job.owner === undefined || job.job.repo === undefined) return undefined;
  const runnerId = job.launchedRunner === message.runnerName ? job.launchedRunnerId : undefined;
  return {
    owner: job.job.owner,
    repo: job.job.repo,
    ...(job.job.installationId !== undefined ? { installationId: job.job.installationId } : {}),
    ...(runnerId !== undefined ? { runnerId } : {}),
  };
}

/** The teardown proper: the registration (unless busy or gone by itself), the slot of an idle runner, the host. */
async function removeRunner(message: TeardownMessage, job: JobRecord | undefined, ports: OrchestratorPorts): Promise<TeardownOutcome> {
  const { host } = ports;
  // A runner that finished its job has no registration left: GitHub removes an ephemeral runner when its one job
  // ends. Asking would cost a call per job for a 404. A failed job may have failed because its host died (GitHub fails
  // the job of a runner that stopped renewing it, and keeps the dead runner's registration): its registration is
  // deleted now — one call per failed job — rather than left to the reconciler's next pass.
  const registration = message.reason === 'finished' ? undefined : registrationOf(message, job);
  if (registration) {
    const scope = scopeOf(ports.config, registration.owner, registration.repo);
    const { client: github, installation } = appFor(ports, message.pool);
    const installationId = await installation(scope, registration.installationId);
    const runnerId = registration.runnerId ?? (await github.findRunnerByName(installationId, scope, message.runnerName))?.id;
    // No look before the delete: GitHub refuses to delete a runner that is running a job — the one atomic "is it
    // idle" check — and a runner gone already answers 404.
    if (runnerId !== undefined && (await deleteRegistration(github, installationId, scope, runnerId)) === 'busy') return 'busy';
  }
  // The publisher freed the slot of a finished runner; an idle runner of a cancelled job is freed here — before its host
  // goes, so that a launch still making that host sees the slot gone when it records it, and removes the host itself.
  if (message.onlyIfIdle) await ports.slots.releaseSlot(message.jobId, message.runnerName, 'orchestrator', new Date(ports.now()));
  await host.delete(message.runnerName);
  return 'torn-down';
}
