/*
 * A demo workload through the whole local system: runs queued on the GitHub simulator → webhooks → producer →
 * dispatch → orchestrator → runner containers → completion → teardown. Prints progress lines while it runs and
 * returns a summary that says whether every job ran exactly once and nothing was left behind.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createRouter, parseRunnerName, scaleSetJobNumber, scaleSetPools } from '@runners/shared';
import { DynamoDbDispatchStore, DynamoDbLaunchStore } from '@runners/shared/dynamodb';
import { percentiles } from './percentiles';
import type { SimJob } from '../sim/model';
import type { ScaleSetStats } from '../sim/scale-sets';
import type { LocalStack } from './stack';

export interface DemoOptions {
  readonly jobs: number;
  /** Job durations in the simulator. */
  readonly durationMs?: number;
  readonly timeoutMs?: number;
  readonly log?: (line: string) => void;
  /** Queue the workload in bursts of `size` jobs, one every `everyMs` (default: all at once). */
  readonly bursts?: { readonly size: number; readonly everyMs: number };
  /** Each job's time to runner (created on GitHub → started on a runner), for callers that want all of them. */
  readonly onRan?: (ms: number) => void;
  /**
   * The chaos scenario: webhook and GitHub API faults in the simulator; jobs cancelled while queued, while their runner
   * launches or while they run; runner hosts killed mid-job.
   */
  readonly chaos?: {
    readonly webhooks: { readonly drop: number; readonly duplicate: number; readonly reorder: number; readonly loseCompleted?: number };
    readonly rest: { readonly serverError: number; readonly secondaryRateLimit: number };
    readonly cancelFraction: number;
    /** Jobs whose runner host is killed while they run (they are long: 20 s, so the kill lands mid-job). */
    readonly hostDeathFraction?: number;
    /** When cancels land (default: spread over all three). */
    readonly cancelStages?: readonly ('queued' | 'launching' | 'running')[];
    /**
     * Scale-set pools: the Actions service's 5xx (a fraction of its requests), and session creations refused (409) after
     * each listener crash, as when GitHub still holds the dead listener's session.
     */
    readonly scaleSets?: { readonly brokerServerError: number; readonly sessionConflictsPerCrash: number };
    /** Scale-set pools: the listener's execution environment killed mid-poll this many times, spread over the run. */
    readonly listenerCrashes?: number;
  };
}

export interface DemoSummary {
  /** Jobs not cancelled: the ones that must run. */
  readonly jobs: number;
  readonly cancelled: number;
  /** The workload's job ids (the first attempt of each). */
  readonly jobIds: readonly number[];
  /**
   * The id of each job's record, in the order of `jobIds`: the job id, or for a scale-set job the number made of its
   * scale-set id (what its traces and launches carry); the job id when the run never saw its scale-set id.
   */
  readonly recordIds: readonly number[];
  /** Faults the simulator injected during the run. */
  readonly webhookFaults: { readonly dropped: number; readonly duplicated: number; readonly reordered: number };
  readonly githubApiFaults: number;
  /** Cancelled by stage: while queued, while their runner was launching, while running. */
  readonly cancelledWhile: { readonly queued: number; readonly launching: number; readonly running: number };
  readonly ran: number;
  /** Jobs whose host was killed mid-job, failed by GitHub for it (lost communication with the runner). */
  readonly diedWithHost: number;
  /**
   * Jobs that ran to success exactly once, from the simulator's record of every runner it gave each job to (a job
   * and its re-runs count as one): a job given to two runners, or run to success twice, is not among them.
   */
  readonly ranExactlyOnce: number;
  /** Jobs given to more than one runner, or run to success more than once (with their re-runs): must be 0. */
  readonly ranMoreThanOnce: number;
  readonly neverRun: number;
  readonly failed: number;
  readonly timeToRunnerMs: { readonly p50: number; readonly p95: number; readonly max: number };
  /** The same per pool (the pool each job's labels route to), as the TimeToRunner metric is on AWS. */
  readonly timeToRunnerByPool: Record<string, { readonly p50: number; readonly p95: number; readonly jobs: number }>;
  readonly runnersPerJob: number;
  /** Runners registered on GitHub during the run, and how many of them never ran a job (relaunches, stolen slots). */
  readonly registrations: number;
  readonly registeredUnused: number;
  /** Every job that ended in failure, and how (the simulator's `endedBy`). */
  readonly failedJobs: readonly { readonly id: number; readonly runnerName?: string; readonly endedBy?: string; readonly diedWithHost: boolean }[];
  readonly hostsLeft: number;
  readonly registrationsLeft: number;
  /** Runner slots still held by a record when everything is done: a slot leak (a lost `completed` never caught up). */
  readonly slotsLeft: number;
  /** Jobs whose `completed` webhook the chaos lost for good (only asking GitHub finds them). */
  readonly completedLostForGood: number;
  /** What was left behind, with the record of the job each runner was launched for: what a leak is made of. */
  readonly leftovers: readonly Leftover[];
  /** AWS calls of every function evaluated against its synthesized role, and how many were refused. */
  readonly iam: { readonly evaluated: number; readonly denied: number };
  readonly totalMs: number;
  /** GitHub API calls during the run, by route (the simulator counts them). */
  readonly githubCalls: Record<string, number>;
  /** Of them, answered 304 (conditional requests: GitHub's rate limit does not count them). */
  readonly githubNotModified: number;
  /** Webhook deliveries the producer received (redeliveries and duplicates included). */
  readonly webhookDeliveries: number;
  /** Whether some pool takes its jobs from webhooks (else the producer is not deployed and deliveries go nowhere). */
  readonly webhookIntake: boolean;
  /** Requests GitHub (the simulator) refused for its secondary rate limit or its registration limit. */
  readonly githubLimited: { readonly secondaryRateLimit: number; readonly registrations: number };
  /** Scale-set pools only: the Actions service's side (sessions, job messages, redeliveries, faults) and listener crashes. */
  readonly scaleSets?: Omit<ScaleSetStats, 'jobMessages'> & { readonly jobMessages: number; readonly listenerCrashes: number };
  readonly ok: boolean;
}

export interface Leftover {
  readonly runner: string;
  /** `host`: a runner container; `registration`: on GitHub, with its status there. */
  readonly kind: 'host' | 'registration';
  readonly status?: string;
  readonly busy?: boolean;
  readonly record?: {
    readonly state: string;
    readonly launchedRunner?: string;
    readonly launchState?: string;
    readonly runnerName?: string;
    readonly updatedAt: string;
  };
}

export async function runDemo(local: LocalStack, options: DemoOptions): Promise<DemoSummary> {
  const sim = local.sim;
  if (!sim) throw new Error('the demo needs the GitHub simulator (no real GitHub App configured)');
  const log = options.log ?? ((line: string) => console.log(line));
  const started = Date.now();
  const callsBefore = { ...sim.stats().calls };
  const notModifiedBefore = sim.stats().notModified;
  const limitedBefore = { secondaryRateLimit: sim.stats().secondaryRateLimited, registrations: sim.stats().registrationsLimited };
  const deliveriesBefore = sim.deliveries.all.length;
  const webhookFaultsBefore = { ...sim.deliveries.stats };
  const apiFaultsBefore = sim.stats().faultsInjected;
  const registeredBefore = sim.model.registered;
  const scaleSetsBefore = sim.scaleSets.stats();
  // A mixed workload over the config's Docker pools (the ones with hosts on this machine), each job labelled as a
  // workflow would target its pool: the first pool gets what the others leave, each other pool a share of 1/(pools + 1)
  // (the default config: two thirds for the plain Docker pool, a third needing `large`).
  const dockerPools = local.config.pools.filter((p) => p.host === 'docker');
  if (dockerPools.length === 0) throw new Error('the demo needs a Docker pool in the pools config');
  const [first, ...others] = dockerPools;
  const share = Math.floor(options.jobs / (others.length + 2));
  // GitHub caps a matrix at 256 jobs: bigger workloads are several matrix jobs of one run.
  const matrices = (name: string, labels: string[], count: number) =>
    Array.from({ length: Math.ceil(count / 256) }, (_, i) => ({
      name: `${name}-${i + 1}`,
      labels,
      durationMs: options.durationMs ?? 300,
      matrix: Math.min(256, count - i * 256),
    }));
  const deaths = options.chaos?.hostDeathFraction ? Math.max(1, Math.round(options.jobs * options.chaos.hostDeathFraction)) : 0;
  const firstLabels = ['self-hosted', first!.os, ...first!.labels];
  const specs = [
    ...matrices('lint', firstLabels, options.jobs - share * others.length - deaths),
    ...others.flatMap((pool, i) => matrices(i === 0 ? 'build' : pool.name, ['self-hosted', ...pool.labels], share)),
    ...matrices('soak', firstLabels, deaths).map((spec) => ({ ...spec, durationMs: 20_000 })),
  ];
  const control = (method: string, path: string, body: unknown) => fetch(`${sim.url}${path}`, { method, body: JSON.stringify(body) });
  if (options.chaos) await control('PUT', '/_sim/faults', { webhooks: options.chaos.webhooks, rest: { ...options.chaos.rest, retryAfterSeconds: 1 } });
  const scaleSetFaults = options.chaos?.scaleSets && scaleSetPools(local.config.pools).length > 0 ? options.chaos.scaleSets : undefined;
  if (scaleSetFaults) await control('PUT', '/_sim/scale-sets/faults', { brokerServerError: scaleSetFaults.brokerServerError });
  // In bursts if asked (a burst of 256 webhooks at once outruns the local stack's single producer environment).
  const burstSize = options.bursts?.size ?? options.jobs;
  const jobs: { id: number }[] = [];
  for (let offset = 0; offset < options.jobs; offset += burstSize) {
    if (offset > 0) await new Promise((r) => setTimeout(r, options.bursts?.everyMs ?? 0));
    const burst = takeJobs(specs, offset, Math.min(burstSize, options.jobs - offset));
    const response = await control('POST', '/_sim/runs', { owner: 'octo-org', repo: 'demo', jobs: burst });
    if (!response.ok) throw new Error(`the simulator refused the workload: ${response.status} ${await response.text()}`);
    jobs.push(...((await response.json()) as { jobs: { id: number }[] }).jobs);
  }
  const ids = new Set(jobs.map((j) => j.id));
  const demoJobs = () => [...sim.model.jobs.values()].filter((j) => ids.has(j.id));
  const hosts = async () => (await local.runnerHosts.list()).length;
  // A job's record id (what its runner host and traces carry): for a scale-set job, the number made of its scale-set
  // id, which GitHub tells only while it holds the job in the scale set: remembered once seen.
  const scaleSetRecordIds = new Map<number, number>();
  const recordIdOf = (id: number) => {
    const scaleSetJobId = scaleSetRecordIds.has(id) ? undefined : sim.scaleSets.scaleSetJobIdOf(id);
    if (scaleSetJobId) scaleSetRecordIds.set(id, scaleSetJobNumber(scaleSetJobId, 0));
    return scaleSetRecordIds.get(id) ?? id;
  };
  const disruptions = options.chaos
    ? startDisruptions(
        local,
        jobs,
        options.chaos.cancelFraction,
        options.chaos.cancelStages ?? ['queued', 'launching', 'running'],
        new Set(
          demoJobs()
            .filter((j) => j.name.startsWith('soak-'))
            .map((j) => j.id),
        ),
        control,
        recordIdOf,
        { crashes: options.chaos.listenerCrashes ?? 0, conflictsPerCrash: scaleSetFaults?.sessionConflictsPerCrash ?? 0 },
      )
    : undefined;

  const deadline = started + (options.timeoutMs ?? 300_000);
  let lastLine = '';
  for (;;) {
    for (const job of demoJobs()) recordIdOf(job.id);
    const states = demoJobs().reduce((acc, j) => ({ ...acc, [j.status]: (acc[j.status] ?? 0) + 1 }), {} as Record<string, number>);
    const runners = sim.stats().runners;
    const line = `[demo ${((Date.now() - started) / 1000).toFixed(1)}s] jobs queued ${states.queued ?? 0}, running ${states.in_progress ?? 0}, done ${states.completed ?? 0}/${ids.size} · runners online ${runners.online} (busy ${runners.busy}) · containers ${await hosts()}`;
    if (line.replace(/^\[demo [\d.]+s\] /, '') !== lastLine) log(line);
    lastLine = line.replace(/^\[demo [\d.]+s\] /, '');
    if ((states.completed ?? 0) === ids.size || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  disruptions?.stop();
  // Teardown follows the completions: give it a moment to leave nothing behind.
  // Under faults a teardown can be the reconciler's: it leaves registrations whose record changed within its
  // 2-minute grace alone, and a lost `completed` is found by its job discovery first (30 s ticks in the scenario), so
  // the leftovers get the grace plus two ticks and a margin before they count as leaked.
  const settleBy = Date.now() + (options.chaos ? 200_000 : 30_000);
  const slots = new DynamoDbDispatchStore(new DynamoDBClient(local.aws.clientConfig), local.stack.tables.jobs);
  // Warm runners hold slots by design: only job slots count.
  const slotsHeld = async () =>
    (
      await Promise.all(local.config.pools.map(async (p) => [...(await slots.slotRunners(p.name)).keys()].filter((name) => !/-w\d+-\d+$/.test(name)).length))
    ).reduce((a, b) => a + b, 0);
  while (Date.now() < settleBy && ((await hosts()) > 0 || sim.model.runners.size > 0 || (await slotsHeld()) > 0)) await new Promise((r) => setTimeout(r, 250));

  // Faults off for the count, so what is left is what the system left, not the last injected error.
  if (options.chaos)
    await control('PUT', '/_sim/faults', {
      webhooks: { drop: 0, duplicate: 0, reorder: 0, loseCompleted: 0 },
      rest: { serverError: 0, secondaryRateLimit: 0 },
    });
  if (scaleSetFaults) await control('PUT', '/_sim/scale-sets/faults', { brokerServerError: 0, sessionConflicts: 0 });
  const finished = demoJobs();
  const cancelled = finished.filter((j) => j.conclusion === 'cancelled').length;
  const { ran, ranMoreThanOnce, died, failedOtherwise } = judgeRuns(finished, [...sim.model.jobs.values()], disruptions?.killed ?? new Set());
  const waits = ran.map((j) => j.startedAt! - j.createdAt).sort((a, b) => a - b);
  for (const wait of waits) options.onRan?.(wait);
  const registrations = sim.model.registered - registeredBefore;
  const runnersThatRan = new Set([...sim.model.jobs.values()].flatMap((j) => (j.assignments ?? []).filter((a) => a.at >= started).map((a) => a.runnerName)));
  const leftovers = await leftBehind(local);
  const summary: DemoSummary = {
    jobs: ids.size - cancelled,
    cancelled,
    jobIds: [...ids],
    recordIds: [...ids].map(recordIdOf),
    cancelledWhile: disruptions?.cancelledWhile ?? { queued: 0, launching: 0, running: 0 },
    ran: ran.length,
    diedWithHost: died.length,
    ranExactlyOnce: ran.length,
    ranMoreThanOnce,
    neverRun: finished.filter((j) => !j.runnerName && j.conclusion !== 'cancelled').length,
    failed: failedOtherwise.length,
    timeToRunnerMs: { ...(percentiles(waits, [50, 95]) as { p50: number; p95: number }), max: waits.at(-1) ?? 0 },
    timeToRunnerByPool: byPool(ran, createRouter(local.config.pools)),
    runnersPerJob: Number((registrations / Math.max(1, ids.size - cancelled)).toFixed(2)),
    registrations,
    registeredUnused: Math.max(0, registrations - runnersThatRan.size),
    failedJobs: finished
      .filter((j) => j.conclusion === 'failure')
      .map((j) => ({ id: j.id, runnerName: j.runnerName, endedBy: j.endedBy, diedWithHost: died.includes(j) })),
    hostsLeft: await hosts(),
    registrationsLeft: sim.model.runners.size,
    slotsLeft: await slotsHeld(),
    completedLostForGood: sim.deliveries.all.slice(deliveriesBefore).filter((d) => d.lostForGood).length,
    leftovers,
    iam: { evaluated: local.iam.evaluated(), denied: local.iam.denials().length },
    totalMs: Date.now() - started,
    githubCalls: Object.fromEntries(
      Object.entries(sim.stats().calls)
        .map(([route, n]) => [route, n - (callsBefore[route] ?? 0)])
        .filter(([, n]) => (n as number) > 0),
    ),
    githubNotModified: sim.stats().notModified - notModifiedBefore,
    webhookDeliveries: sim.deliveries.all.length - deliveriesBefore,
    webhookIntake: local.config.pools.some((p) => p.intake === 'webhook'),
    webhookFaults: {
      dropped: sim.deliveries.stats.dropped - webhookFaultsBefore.dropped,
      duplicated: sim.deliveries.stats.duplicated - webhookFaultsBefore.duplicated,
      reordered: sim.deliveries.stats.reordered - webhookFaultsBefore.reordered,
    },
    githubApiFaults: sim.stats().faultsInjected - apiFaultsBefore,
    githubLimited: {
      secondaryRateLimit: sim.stats().secondaryRateLimited - limitedBefore.secondaryRateLimit,
      registrations: sim.stats().registrationsLimited - limitedBefore.registrations,
    },
    ...(scaleSetPools(local.config.pools).length > 0
      ? { scaleSets: scaleSetActivity(scaleSetsBefore, sim.scaleSets.stats(), disruptions?.listenerCrashes() ?? 0) }
      : {}),
    ok: false,
  };
  // A denied call is a role that would fail on AWS: the run is not OK even if the work got done around it.
  return {
    ...summary,
    ok:
      summary.ranExactlyOnce + summary.diedWithHost === summary.jobs &&
      summary.ranMoreThanOnce === 0 &&
      summary.slotsLeft === 0 &&
      summary.hostsLeft === 0 &&
      summary.registrationsLeft === 0 &&
      summary.iam.denied === 0,
  };
}

/**
 * What the simulator's records say of each job of the workload: it ran exactly once (given to one runner per attempt,
 * one attempt succeeded — a job and its re-runs, which GitHub gives new ids, are one piece of work), more than once
 * (given to two runners, or succeeded twice), died with its host (`killed`, failed for lost communication, not re-run
 * to success), or failed otherwise. Pure, so that a test can show each detector sees what it counts.
 */
export function judgeRuns(workload: readonly SimJob[], all: readonly SimJob[], killed: ReadonlySet<number>) {
  const attempts = (job: SimJob): SimJob[] => [job, ...all.filter((j) => j.rerunOf === job.id).flatMap((j) => attempts(j))];
  const runs = workload.map((job) => {
    const tries = attempts(job);
    return { job, tries, succeeded: tries.filter((j) => j.conclusion === 'success').length, twice: tries.some((j) => (j.assignments?.length ?? 0) > 1) };
  });
  const once = runs.filter((r) => !r.twice && r.succeeded === 1);
  const rerunToSuccess = new Set(once.filter((r) => r.job.conclusion !== 'success').map((r) => r.job.id));
  const died = workload.filter((j) => killed.has(j.id) && j.conclusion === 'failure' && j.endedBy === 'lost-communication' && !rerunToSuccess.has(j.id));
  return {
    ran: once.map((r) => r.tries.find((j) => j.conclusion === 'success')!),
    ranMoreThanOnce: runs.filter((r) => r.twice || r.succeeded > 1).length,
    died,
    failedOtherwise: workload.filter(
      (j) => j.status === 'completed' && j.runnerName && j.conclusion === 'failure' && !died.includes(j) && !rerunToSuccess.has(j.id),
    ),
  };
}

/** Time to runner (queued → started) per pool the jobs' labels route to. */
function byPool(ran: readonly SimJob[], router: ReturnType<typeof createRouter>): DemoSummary['timeToRunnerByPool'] {
  const waits = new Map<string, number[]>();
  for (const job of ran) {
    const route = router.route(job.labels);
    const pool = route.kind === 'pool' ? route.pool.name : 'unroutable';
    waits.set(pool, [...(waits.get(pool) ?? []), job.startedAt! - job.createdAt]);
  }
  return Object.fromEntries([...waits].sort().map(([pool, w]) => [pool, { ...(percentiles(w, [50, 95]) as { p50: number; p95: number }), jobs: w.length }]));
}

/** Hosts and registrations still there, each with the record of the job its runner was launched for. */
async function leftBehind(local: LocalStack): Promise<Leftover[]> {
  const launches = new DynamoDbLaunchStore(new DynamoDBClient(local.aws.clientConfig), local.stack.tables.jobs);
  const pools = new Set(local.config.pools.map((p) => p.name));
  const recordOf = async (runner: string): Promise<Leftover['record']> => {
    const identity = parseRunnerName(runner, local.config.runnerNamePrefix, pools);
    const job = identity && (await launches.job(identity.jobId));
    return job && { state: job.state, launchedRunner: job.launchedRunner, launchState: job.launchState, runnerName: job.runnerName, updatedAt: job.updatedAt };
  };
  const hosts = (await local.runnerHosts.list()).map((h) => ({ runner: h.runnerName, kind: 'host' as const }));
  const registrations = [...(local.sim?.model.runners.values() ?? [])].map((r) => ({
    runner: r.name,
    kind: 'registration' as const,
    status: r.status,
    busy: r.busy,
  }));
  return Promise.all([...hosts, ...registrations].map(async (left) => ({ ...left, record: await recordOf(left.runner) })));
}

/** Jobs [offset, offset + count) of the workload, as matrix specs. */
function takeJobs<T extends { matrix: number }>(specs: readonly T[], offset: number, count: number): T[] {
  const out: T[] = [];
  let skip = offset;
  let left = count;
  for (const spec of specs) {
    if (left === 0) break;
    if (skip >= spec.matrix) {
      skip -= spec.matrix;
      continue;
    }
    const take = Math.min(spec.matrix - skip, left);
    out.push({ ...spec, matrix: take });
    left -= take;
    skip = 0;
  }
  return out;
}

export function formatSummary(summary: DemoSummary): string {
  return [
    `demo: ${summary.ran}/${summary.jobs} jobs ran exactly once, ${summary.ranMoreThanOnce} more than once, ${summary.diedWithHost} failed because their host was killed mid-job, ${summary.neverRun} never ran, ${summary.failed} failed otherwise`,
    `  cancelled ${summary.cancelled}: ${summary.cancelledWhile.queued} while queued, ${summary.cancelledWhile.launching} while their runner launched, ${summary.cancelledWhile.running} while running`,
    `  time to runner p50 ${summary.timeToRunnerMs.p50} ms, p95 ${summary.timeToRunnerMs.p95} ms, max ${summary.timeToRunnerMs.max} ms; per pool: ${Object.entries(
      summary.timeToRunnerByPool,
    )
      .map(([pool, t]) => `${pool} p50 ${t.p50} / p95 ${t.p95} ms (${t.jobs} jobs)`)
      .join(', ')}`,
    `  runners per job ${summary.runnersPerJob} (${summary.registrations} registered, ${summary.registeredUnused} never ran a job); left behind: ${summary.hostsLeft} containers, ${summary.registrationsLeft} registrations, ${summary.slotsLeft} slots`,
    summary.scaleSets && !summary.webhookIntake
      ? '  webhooks: none taken (every pool takes its jobs from its scale set)'
      : `  webhooks: ${summary.webhookDeliveries} deliveries${summary.completedLostForGood > 0 ? `; ${summary.completedLostForGood} \`completed\` lost for good (found by asking GitHub)` : ''}`,
    ...(summary.webhookFaults.dropped + summary.webhookFaults.duplicated + summary.webhookFaults.reordered + summary.githubApiFaults > 0
      ? [
          `  injected by the simulator: webhooks ${summary.webhookFaults.dropped} dropped (lost-for-good included), ${summary.webhookFaults.duplicated} duplicated, ${summary.webhookFaults.reordered} reordered; GitHub API ${summary.githubApiFaults} errors (5xx, secondary rate limit)`,
        ]
      : []),
    ...summary.leftovers.map(
      (l) =>
        `    ${l.kind} ${l.runner}${l.status ? ` (${l.status}${l.busy ? ', busy' : ''})` : ''}: its job ${l.record ? JSON.stringify(l.record) : 'has no record'}`,
    ),
    ...(summary.scaleSets
      ? [
          `  scale sets: ${summary.scaleSets.sessionsCreated} sessions (${summary.scaleSets.sessionConflicts} refused with 409), ${summary.scaleSets.messagesDelivered} messages (${summary.scaleSets.messagesRedelivered} redelivered) with ${summary.scaleSets.jobMessages} job messages, ${summary.scaleSets.withdrawals} assignments withdrawn; Actions service ${summary.scaleSets.brokerFaultsInjected} errors injected; listener crashed ${summary.scaleSets.listenerCrashes} times`,
        ]
      : []),
    `  IAM: ${summary.iam.evaluated} AWS authorizations evaluated against the synthesized roles, ${summary.iam.denied} denied`,
    `  GitHub refused ${summary.githubLimited.secondaryRateLimit} requests for its secondary rate limit, ${summary.githubLimited.registrations} registrations for its registration limit`,
    `  total ${(summary.totalMs / 1000).toFixed(1)} s — ${summary.ok ? 'OK' : 'FAILED'}`,
  ].join('\n');
}

/**
 * The chaos scenario's disruptions, driven by what the jobs are doing: every ⌈1/cancelFraction⌉-th job is cancelled,
 * in turn while queued, while a runner host for it exists but it has not started (its runner launching), and while it
 * runs; the `doomed` jobs have their runner's host killed once they run (the container removed with SIGKILL: the
 * runner stops renewing, GitHub fails the job when its lock expires). Cancels go through the simulator as a user's
 * do (GitHub sends `completed`, cancelled); kills through the engine, behind the system's back.
 */
function scaleSetActivity(before: ScaleSetStats, after: ScaleSetStats, listenerCrashes: number): NonNullable<DemoSummary['scaleSets']> {
  const jobMessages = (s: ScaleSetStats) => Object.values(s.jobMessages).reduce((a, b) => a + b, 0);
  return {
    sessionsCreated: after.sessionsCreated - before.sessionsCreated,
    sessionConflicts: after.sessionConflicts - before.sessionConflicts,
    messagesDelivered: after.messagesDelivered - before.messagesDelivered,
    messagesRedelivered: after.messagesRedelivered - before.messagesRedelivered,
    jobMessages: jobMessages(after) - jobMessages(before),
    withdrawals: after.withdrawals - before.withdrawals,
    acquired: after.acquired - before.acquired,
    brokerFaultsInjected: after.brokerFaultsInjected - before.brokerFaultsInjected,
    listenerCrashes,
  };
}

function startDisruptions(
  local: LocalStack,
  jobs: readonly { id: number }[],
  cancelFraction: number,
  stages: readonly ('queued' | 'launching' | 'running')[],
  doomed: ReadonlySet<number>,
  control: (method: string, path: string, body: unknown) => Promise<Response>,
  recordIdOf: (jobId: number) => number,
  listenerCrashes: { readonly crashes: number; readonly conflictsPerCrash: number },
) {
  const sim = local.sim!;
  // Listener crashes land as the workload's jobs complete: after a (n+1)th of them each.
  const listener = local.functions.get('listener');
  const { crashes, conflictsPerCrash } = listenerCrashes;
  const crashAt = listener ? Array.from({ length: crashes }, (_, i) => Math.ceil((jobs.length * (i + 1)) / (crashes + 1))) : [];
  let listenerCrashed = 0;
  const every = Math.round(1 / cancelFraction);
  const toCancel = new Map(jobs.filter((_, i) => i % every === 7 && !doomed.has(jobs[i]!.id)).map((job, n) => [job.id, stages[n % stages.length]!] as const));
  const cancelledWhile = { queued: 0, launching: 0, running: 0 };
  const killed = new Set<number>();
  let busy = false;
  const tick = async () => {
    if (busy) return;
    busy = true;
    try {
      const launching = new Set((await local.runnerHosts.list()).map((h) => h.jobId));
      for (const [id, stage] of toCancel) {
        const job = sim.model.jobs.get(id)!;
        const due =
          job.status === 'completed' ||
          stage === 'queued' ||
          (stage === 'launching' && job.status === 'queued' && launching.has(recordIdOf(id))) ||
          (stage === 'running' && job.status === 'in_progress');
        if (!due) continue;
        toCancel.delete(id);
        if (job.status === 'completed') continue;
        await control('POST', `/_sim/jobs/${id}/cancel`, {});
        cancelledWhile[stage]++;
      }
      for (const id of doomed) {
        const job = sim.model.jobs.get(id)!;
        if (killed.has(id) || job.status !== 'in_progress' || !job.runnerName) continue;
        killed.add(id);
        await local.runnerHosts.delete(job.runnerName);
      }
      const completed = jobs.filter((j) => sim.model.jobs.get(j.id)?.status === 'completed').length;
      // Mid-poll: only while a listener holds a session (not while its successor still waits to open one).
      const polling = () => sim.scaleSets.inspect().some((ss) => ss.session);
      while (listener && listenerCrashed < crashAt.length && completed >= crashAt[listenerCrashed]! && polling()) {
        listenerCrashed++;
        await listener.crash();
        if (conflictsPerCrash > 0) await control('PUT', '/_sim/scale-sets/faults', { sessionConflicts: conflictsPerCrash });
      }
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void tick(), 100);
  return { cancelledWhile, killed, listenerCrashes: () => listenerCrashed, stop: () => clearInterval(timer) };
}
