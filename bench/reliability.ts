/*
 * `make bench`, reliability scenarios on the local stack with the GitHub simulator and real runner containers:
 *   steady — BENCH_RELIABILITY_JOBS (1,000) jobs in bursts of BENCH_BURST (50) every 10 s across two Docker pools, no faults;
 *   chaos  — the same with the faults of local/chaos/scenario.ts (webhooks duplicated, reordered, dropped and lost for
 *            good, container creations failing, GitHub 5xx and secondary rate limits, cancels, host deaths, an
 *            orchestrator crash);
 *   scaleset — chaos with the pools taking their jobs from runner scale sets (bench/pools.scaleset.ts): the webhook
 *            faults touch nothing, the Actions service fails 2 % of requests with 5xx, the listener is killed mid-poll
 *            twice and its successor's first session refused (409) each time.
 * Writes bench/results/<scenario>.json and bench/results/reliability.md.
 *
 * Usage: npx tsx bench/reliability.ts [steady] [chaos] [scaleset] [report] (report: re-render the markdown only). Needs the bundles
 * built with bench/pools.reliability.ts into dist-reliability/ and with bench/pools.scaleset.ts into dist-reliability-scaleset/ (the
 * Makefile's bench target does both).
 */
import { measuredCommit } from './commit';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHAOS_FAULTS, startChaosScenario } from '../local/chaos/scenario';
import { runDemo, type DemoSummary } from '../local/demo';
import { percentiles } from '../local/percentiles';
import { jobTimeline, OWNER, stagePercentiles, STAGES, type StagePercentiles } from '../local/traces/job-timeline';
import { startLocalStack, throwawayStack } from '../local/stack';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const resultsDir = resolve(root, process.env.BENCH_RESULTS_DIR ?? 'bench/results');
const JOBS = Number(process.env.BENCH_RELIABILITY_JOBS ?? 1_000);
/** Jobs per burst (one every 10 s): the local stack has 4 producer execution environments, and GitHub gives a
 * webhook 10 s; much bigger bursts make it fail deliveries that the reconciler then has to redeliver. */
const BURST = Number(process.env.BENCH_BURST ?? 50);
/** The commit measured; `-dirty` if the tree had changes, which a result must not be published from. */
const COMMIT = measuredCommit(root);

/**
 * us-east-1 list prices (2026), what the control plane pays per job; runner hosts are not included (they are the
 * pools' own cost). Lambda: arm64, the stacks' 512 MB.
 */
const PRICES = {
  lambdaRequest: 0.2 / 1e6,
  lambdaGbSecond: 0.0000133334,
  lambdaMemoryGb: 0.5,
  dynamodbWrite: 1.25 / 1e6,
  dynamodbRead: 0.25 / 1e6,
  snsPublish: 0.5 / 1e6,
  sqsRequest: 0.4 / 1e6,
  httpApiRequest: 1.0 / 1e6,
} as const;
const DYNAMODB_WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);

interface ReliabilityResult {
  scenario: string;
  /** The commit the run measured. */
  commit?: string;
  /** AWS authorizations evaluated against the synthesized roles, and how many were denied (must be 0). */
  iam?: { evaluated: number; denied: number };
  jobs: number;
  cancelled: number;
  ranExactlyOnce: number;
  /** Jobs given to more than one runner or run to success more than once (the simulator's record of assignments). */
  ranMoreThanOnce?: number;
  neverRun: number;
  /** Runners registered on GitHub that never ran a job: counted from the registrations themselves. */
  duplicateRunners: number;
  registrations?: number;
  leakedHosts: number;
  leakedRegistrations: number;
  /** Job slots still held at the end (a lost `completed` never caught up with). */
  leakedSlots?: number;
  /** `completed` webhooks the chaos lost for good. */
  completedLostForGood?: number;
  /** Every failed job: its id, runner, how it ended, whether its host was killed. */
  failedJobs?: DemoSummary['failedJobs'];
  timeToRunnerMs: { p50: number; p95: number; p99: number };
  githubCallsPerJob: Record<string, number>;
  githubCallsPerJobTotal: number;
  awsCallsPerJob: Record<string, number>;
  awsCallsPerJobTotal: number;
  /** Per function: its AWS calls per job, in all and by operation (absent in results written before it existed). */
  awsCallsPerFunction?: Record<string, { total: number; operations: Record<string, number> }>;
  /** GitHub answers 304 (a conditional request, not counted by GitHub's rate limit), per job. */
  githubNotModifiedPerJob?: number;
  costPerJobUsd: number;
  injectedContainerFailures: number;
  /** Absent in results written before the crash fault existed. */
  orchestratorCrashes?: number;
  /** Absent in results written before host deaths and spread cancels existed. */
  cancelledWhile?: { queued: number; launching: number; running: number };
  diedWithHost?: number;
  failedOtherwise?: number;
  totalMs: number;
  /** `scaleset`: the Actions service's side (sessions, messages, faults) and the listener crashes. */
  scaleSets?: DemoSummary['scaleSets'];
  /** Per stage of the jobs' timelines (from the collected traces): ms from the stage before; absent before traces existed. */
  stagesMs?: StagePercentiles;
  priceTable: typeof PRICES;
  environment: string;
}

type Scenario = 'steady' | 'chaos' | 'scaleset';
const SCENARIOS: readonly Scenario[] = ['steady', 'chaos', 'scaleset'];

/** The pools and bundles of a scenario: `scaleset` runs the same pools taking their jobs from scale sets. */
const poolsOf = (scenario: Scenario) =>
  scenario === 'scaleset'
    ? { poolsConfigPath: resolve(root, 'bench/pools.scaleset.ts'), distDir: resolve(root, 'dist-reliability-scaleset') }
    : { poolsConfigPath: resolve(root, 'bench/pools.reliability.ts'), distDir: resolve(root, 'dist-reliability') };

async function run(scenario: Scenario): Promise<ReliabilityResult> {
  // `scaleset`: the chaos faults, of which the webhook ones touch nothing (no pool takes webhooks), plus the
  // scale-set ones (Actions-service 5xx, session conflicts, listener crashes).
  const chaos = scenario !== 'steady';
  const faults = chaos ? await startChaosScenario() : undefined;
  const local = await startLocalStack({
    ...(await throwawayStack(root, `bench-${scenario}`)),
    logLevel: 'ERROR',
    publisherTickMs: 10_000,
    ...poolsOf(scenario),
    ...faults?.stackOptions,
  });
  faults?.attach(local);
  try {
    const waits: number[] = [];
    const summary = await runDemo(local, {
      jobs: JOBS,
      bursts: { size: BURST, everyMs: 10_000 },
      timeoutMs: 60 * 60_000,
      log: () => undefined,
      onRan: (ms) => waits.push(ms),
      ...(chaos ? { chaos: CHAOS_FAULTS } : {}),
    });
    const calls: Record<string, number> = {};
    const byFunction: Record<string, Record<string, number>> = {};
    let lambdaCost = 0;
    for (const [name, fn] of local.functions) {
      for (const [operation, count] of Object.entries(await fn.awsCalls())) {
        calls[operation] = (calls[operation] ?? 0) + count;
        (byFunction[name] ??= {})[operation] = count;
      }
      const usage = fn.usage();
      lambdaCost += usage.invocations * PRICES.lambdaRequest + (usage.durationMs / 1000) * PRICES.lambdaMemoryGb * PRICES.lambdaGbSecond;
    }
    const awsCost = Object.entries(calls).reduce((sum, [operation, count]) => {
      const [service, action = ''] = operation.split('.');
      if (service === 'DynamoDB') return sum + count * (DYNAMODB_WRITES.has(action) ? PRICES.dynamodbWrite : PRICES.dynamodbRead);
      if (service === 'SNS') return sum + count * PRICES.snsPublish;
      if (service === 'SQS') return sum + count * PRICES.sqsRequest;
      return sum;
    }, 0);
    const jobs = summary.jobs;
    const perJob = (record: Record<string, number>) =>
      Object.fromEntries(
        Object.entries(record)
          .sort()
          .map(([k, n]) => [k, Number((n / jobs).toFixed(3))]),
      );
    const total = (record: Record<string, number>) => Number((Object.values(record).reduce((a, b) => a + b, 0) / jobs).toFixed(3));
    return {
      scenario,
      jobs,
      cancelled: summary.cancelled,
      cancelledWhile: summary.cancelledWhile,
      ranExactlyOnce: summary.ranExactlyOnce,
      diedWithHost: summary.diedWithHost,
      failedOtherwise: summary.failed,
      ranMoreThanOnce: summary.ranMoreThanOnce,
      neverRun: summary.neverRun,
      duplicateRunners: summary.registeredUnused,
      registrations: summary.registrations,
      leakedHosts: summary.hostsLeft,
      leakedRegistrations: summary.registrationsLeft,
      leakedSlots: summary.slotsLeft,
      completedLostForGood: summary.completedLostForGood,
      failedJobs: summary.failedJobs,
      timeToRunnerMs: percentiles(waits, [50, 95, 99]) as { p50: number; p95: number; p99: number },
      githubCallsPerJob: perJob(summary.githubCalls),
      githubCallsPerJobTotal: total(summary.githubCalls),
      awsCallsPerJob: perJob(calls),
      awsCallsPerJobTotal: total(calls),
      awsCallsPerFunction: Object.fromEntries(
        Object.entries(byFunction)
          .sort()
          .map(([name, ops]) => [name, { total: total(ops), operations: perJob(ops) }]),
      ),
      githubNotModifiedPerJob: Number((summary.githubNotModified / jobs).toFixed(3)),
      // Webhook deliveries cost an HTTP API request each only where the endpoint exists.
      costPerJobUsd: Number(((awsCost + lambdaCost + (summary.webhookIntake ? summary.webhookDeliveries * PRICES.httpApiRequest : 0)) / jobs).toFixed(8)),
      ...(summary.scaleSets ? { scaleSets: summary.scaleSets } : {}),
      injectedContainerFailures: faults?.proxy.injected() ?? 0,
      orchestratorCrashes: faults?.proxy.crashes() ?? 0,
      totalMs: summary.totalMs,
      stagesMs: stagePercentiles(summary.recordIds.map((id) => jobTimeline(local.traces.store.ofJob(id)))),
      commit: COMMIT,
      iam: summary.iam,
      priceTable: PRICES,
      environment: `local stack (moto, one emulated execution environment per function, runner containers on dockerd), node ${process.version}, ${new Date().toISOString()}`,
    };
  } finally {
    await local.stop();
    await faults?.close();
  }
}

/** A table of one per-job count, a row per key and a column per scenario. */
function breakdown(results: readonly ReliabilityResult[], key: string, counts: (r: ReliabilityResult) => Record<string, number>): string[] {
  const keys = [...new Set(results.flatMap((r) => Object.keys(counts(r))))].sort();
  return [
    `| ${key} | ${results.map((r) => r.scenario).join(' | ')} |`,
    `| --- | ${results.map(() => '---').join(' | ')} |`,
    ...keys.map((k) => `| ${k} | ${results.map((r) => counts(r)[k] ?? 0).join(' | ')} |`),
  ];
}

function markdown(results: ReliabilityResult[]): string {
  return [
    '# Reliability benchmark',
    '',
    '`make bench` on the local stack: jobs queued on the GitHub simulator in bursts of BENCH_BURST (50) every 10 s across two Docker pools (8 + 4',
    'runners), run by real runner containers. `jobs` = jobs not cancelled. `chaos` adds the faults of `local/chaos/scenario.ts`: 10 % duplicated,',
    '5 % reordered, 2 % dropped webhooks, 5 % of container creations failing, GitHub 5xx (2 %) and secondary rate limits (1 %), 3 % of jobs',
    'cancelled spread over the run (while queued, while their runner launched, while running), 2 % of runner hosts killed mid-job (SIGKILL:',
    'the runner goes offline, GitHub fails the job when its renewals stop), and the Docker orchestrator killed once between "JIT config',
    'generated" and "container created". Chaos also compresses time: host rules every 5 s, the reconciler every 30 s (AWS: 5 min), GitHub\'s',
    'job lock 15 s (10 min), so its passes (deliveries, runs and jobs lists, GetItems of',
    'the host rules) weigh 10 to 60 times more per job than they would on AWS. Every AWS call of every function is evaluated against the role',
    'the stacks synthesize for it (local/iam/); a denied call fails the run. `scaleset` is chaos with both pools taking their jobs from runner',
    'scale sets (bench/pools.scaleset.ts): no webhooks (their faults touch nothing), the Actions service failing 2 % of its requests with 5xx,',
    "the listener killed mid-poll twice and its successor's first session refused (409), assignments no runner takes withdrawn after 20 s.",
    '',
    '| scenario | jobs | cancelled (queued / launching / running) | ran exactly once | ran more than once | failed: host killed / otherwise | never run | runners registered / never ran a job | leaked hosts / registrations / slots | time to runner p50 / p95 / p99 (ms) | GitHub calls per job | AWS calls per job | cost per job (USD) | faults injected: creations failed / orchestrator crashes | IAM: evaluated / denied | total (s) | jobs per minute | commit |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...results.map(
      (r) =>
        `| ${r.scenario} | ${r.jobs} | ${r.cancelled}${r.cancelledWhile ? ` (${r.cancelledWhile.queued} / ${r.cancelledWhile.launching} / ${r.cancelledWhile.running})` : ''} | ${r.ranExactlyOnce} | ${r.ranMoreThanOnce ?? 'not measured'} | ${r.diedWithHost ?? 0} / ${r.failedOtherwise ?? 0} | ${r.neverRun} | ${r.registrations ?? '?'} / ${r.duplicateRunners} | ${r.leakedHosts} / ${r.leakedRegistrations} / ${r.leakedSlots ?? '?'} | ${r.timeToRunnerMs.p50} / ${r.timeToRunnerMs.p95} / ${r.timeToRunnerMs.p99} | ${r.githubCallsPerJobTotal} | ${r.awsCallsPerJobTotal} | ${r.costPerJobUsd} | ${r.injectedContainerFailures} / ${r.orchestratorCrashes ?? 0} | ${r.iam ? `${r.iam.evaluated} / ${r.iam.denied}` : 'not enforced'} | ${(r.totalMs / 1000).toFixed(0)} | ${((r.jobs + r.cancelled) / (r.totalMs / 60_000)).toFixed(1)} | ${r.commit ?? ''} |`,
    ),
    '',
    `Time to runner (job queued on GitHub → a runner took it) is mostly waiting for a free runner: ${(results[0]?.jobs ?? 0) + (results[0]?.cancelled ?? 0)} jobs arrive within ${Math.ceil(((results[0]?.jobs ?? 0) + (results[0]?.cancelled ?? 0)) / BURST) * 10} s and the two`,
    'pools hold 12 runners, so the queue drains at the pools\' throughput (jobs per minute). "Ran exactly once" and "more than once" come from',
    'the simulator\'s record of every runner it gave each job to (a job and its re-runs are one). "Never ran a job" counts registered runners',
    "that took no job: a job taken by another job's runner (job stealing) gets a new runner, a crashed or failed launch is relaunched.",
    "Chaos loses 1 % of `completed` webhooks for good (every redelivery fails too): only the reconciler's open-job pass, asking GitHub, frees",
    'their slots — "slots" counts job slots still held at the end. Failed jobs are listed in each scenario\'s JSON.',
    '',
    'Stage timeline per job, from the traces the functions sent (X-Ray segments, collected by the local stack): milliseconds from the stage',
    "before, p50 / p95 / p99 over the jobs whose trace shows both stages. The control plane's own steps are table, messenger, publisher and",
    "orchestrator; the rest is GitHub's, the host's or the job's (see `make trace`). Locally, SNS → SQS and the stream are polled (up to",
    '~0.5 s each), where AWS pushes.',
    '',
    `| stage | owner of the step | ${results.map((r) => `${r.scenario} p50 / p95 / p99 (jobs)`).join(' | ')} |`,
    `| --- | --- | ${results.map(() => '---').join(' | ')} |`,
    ...STAGES.slice(1).map(
      (stage) =>
        `| ${stage} | ${OWNER[stage]} | ${results
          .map((r) => {
            const s = r.stagesMs?.[stage];
            return s ? `${s.p50} / ${s.p95} / ${s.p99} (${s.jobs})` : 'not measured';
          })
          .join(' | ')} |`,
    ),
    '',
    "GitHub calls per job, split: the REST API (what GitHub's rate limits count) and the Actions service of the scale sets (their",
    "broker: sessions, JIT configs, and the message queue's long polls and acknowledgements, one each per message of up to 50 job messages):",
    '',
    `| scenario | REST API | Actions service | of which message queue |`,
    '| --- | --- | --- | --- |',
    ...results.map((r) => {
      const sum = (keep: (endpoint: string) => boolean) =>
        Number(
          Object.entries(r.githubCallsPerJob)
            .filter(([endpoint]) => keep(endpoint))
            .reduce((n, [, perJob]) => n + perJob, 0)
            .toFixed(3),
        );
      return `| ${r.scenario} | ${sum((e) => !e.includes('/broker/'))} | ${sum((e) => e.includes('/broker/'))} | ${sum((e) => e.includes('/broker/mq/'))} |`;
    }),
    '',
    `GitHub calls per job, by endpoint (every request, 304s included: ${results.map((r) => `${r.scenario} ${r.githubNotModifiedPerJob ?? '?'} of them answered 304, which GitHub's rate limit does not count`).join('; ')}):`,
    '',
    ...breakdown(results, 'endpoint', (r) => r.githubCallsPerJob),
    '',
    'AWS calls per job, by operation:',
    '',
    ...breakdown(results, 'operation', (r) => r.awsCallsPerJob),
    '',
    'AWS calls per job, by function (every function of the local stack, end to end; the scheduled passes included):',
    '',
    ...breakdown(results, 'function', (r) => Object.fromEntries(Object.entries(r.awsCallsPerFunction ?? {}).map(([name, f]) => [name, f.total]))),
    '',
    ...breakdown(results, 'function: operation', (r) =>
      Object.fromEntries(
        Object.entries(r.awsCallsPerFunction ?? {}).flatMap(([name, f]) => Object.entries(f.operations).map(([op, n]) => [`${name}: ${op}`, n])),
      ),
    ),
    '',
    `Cost per job: counted requests × us-east-1 list prices (${JSON.stringify(PRICES)}), Lambda durations as measured`,
    'locally (moto is slower than AWS, so this overstates Lambda time). Runner hosts are not included.',
    `Environment: ${results[0]?.environment ?? ''}.`,
    '',
  ].join('\n');
}

// `report`: only re-render reliability.md from the results already written (all of one commit).
const reportOnly = process.argv.includes('report');
const scenarios = process.argv.slice(2).filter((s): s is Scenario => (SCENARIOS as readonly string[]).includes(s));
const results: ReliabilityResult[] = [];
mkdirSync(resultsDir, { recursive: true });
for (const scenario of scenarios.length > 0 ? scenarios : SCENARIOS) {
  if (reportOnly) {
    results.push(JSON.parse(readFileSync(resolve(resultsDir, `${scenario}.json`), 'utf8')) as ReliabilityResult);
    continue;
  }
  const result = await run(scenario);
  results.push(result);
  writeFileSync(resolve(resultsDir, `${scenario}.json`), `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(result));
}
const commits = new Set(results.map((r) => r.commit));
if (commits.size > 1) {
  console.error(`the results come from different commits (${[...commits].join(', ')}): run every scenario again on one commit`);
  process.exit(1);
}
writeFileSync(resolve(resultsDir, 'reliability.md'), markdown(results));
console.log(markdown(results));
process.exit(
  results.every(
    (r) =>
      r.neverRun === 0 &&
      (r.ranMoreThanOnce ?? 0) === 0 &&
      r.leakedHosts === 0 &&
      r.leakedRegistrations === 0 &&
      (r.leakedSlots ?? 0) === 0 &&
      r.ranExactlyOnce + (r.diedWithHost ?? 0) === r.jobs &&
      (r.iam?.denied ?? 0) === 0,
  )
    ? 0
    : 1,
);
