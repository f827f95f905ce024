/*
 * `make bench`, warm pools: the same trickle of jobs (one every BENCH_WARM_EVERY_MS, 4 s, to each pool, BENCH_WARM_JOBS
 * per pool, 40) through two identical Docker pools of the local stack, one cold, one keeping 2 idle runners ahead of
 * its jobs. Time to runner = job queued on GitHub (the simulator) → a runner took it. Writes bench/results/warm.json
 * and warm.md. Needs the bundles built with bench/pools.warm.ts into dist-warm/ (the Makefile's bench target does it).
 */
import { measuredCommit } from './commit';
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { percentiles } from '../local/percentiles';
import { REALISTIC_TIMING } from '../sim/model';
import { startLocalStack, throwawayStack } from '../local/stack';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const resultsDir = resolve(root, 'bench/results');
const JOBS = Number(process.env.BENCH_WARM_JOBS ?? 40);
const EVERY_MS = Number(process.env.BENCH_WARM_EVERY_MS ?? 4_000);
const POOLS = { 'docker-cold': 'cold', 'docker-warm': 'warm' } as const;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ASSIGN_DELAY_MS = REALISTIC_TIMING.assignDelayMs;

const local = await startLocalStack({
  ...(await throwawayStack(root, 'bench-warm')),
  logLevel: 'ERROR',
  publisherTickMs: 10_000,
  poolsConfigPath: resolve(root, 'bench/pools.warm.ts'),
  distDir: resolve(root, 'dist-warm'),
  // GitHub gives a queued job to an idle runner asynchronously, about a second later: with no delay a warm runner
  // would look faster than it is.
  simTiming: { assignDelayMs: ASSIGN_DELAY_MS },
});
let code = 1;
try {
  const sim = local.sim!;
  const online = () => [...sim.model.runners.values()].filter((r) => r.status === 'online' && !r.busy && r.name.includes('-docker-warm-')).length;
  // The warm pool fills on the publisher's first tick.
  const deadline = Date.now() + 60_000;
  while (online() < 2 && Date.now() < deadline) await sleep(250);
  const jitBefore = sim.stats().calls['POST /orgs/{owner}/actions/runners/generate-jitconfig'] ?? 0;

  const ids: Record<string, number[]> = { cold: [], warm: [] };
  for (let i = 0; i < JOBS; i++) {
    for (const label of Object.values(POOLS)) {
      const response = await fetch(`${sim.url}/_sim/runs`, {
        method: 'POST',
        body: JSON.stringify({ owner: 'octo-org', repo: 'bench', jobs: [{ labels: ['self-hosted', label], durationMs: 1_000 }] }),
      });
      ids[label]!.push(...((await response.json()) as { jobs: { id: number }[] }).jobs.map((j) => j.id));
    }
    await sleep(EVERY_MS);
  }
  const all = [...ids.cold!, ...ids.warm!];
  while (all.some((id) => sim.model.jobs.get(id)?.status !== 'completed')) await sleep(500);
  const registrations = (sim.stats().calls['POST /orgs/{owner}/actions/runners/generate-jitconfig'] ?? 0) - jitBefore;

  const result = Object.fromEntries(
    Object.entries(ids).map(([label, jobIds]) => {
      const jobs = jobIds.map((id) => sim.model.jobs.get(id)!);
      const waits = jobs.map((j) => j.startedAt! - j.createdAt);
      const onWarm = jobs.filter((j) => /-w\d+-\d+$/.test(j.runnerName ?? '')).length;
      return [label, { jobs: jobs.length, ranOnWarmRunner: onWarm, timeToRunnerMs: percentiles(waits, [50, 95, 99]) }];
    }),
  );
  const iam = { evaluated: local.iam.evaluated(), denied: local.iam.denials().length };
  const commit = measuredCommit(root);
  const summary = {
    ...result,
    jitConfigsForBothPools: registrations,
    jobsPerPool: JOBS,
    everyMs: EVERY_MS,
    simAssignDelayMs: ASSIGN_DELAY_MS,
    iam,
    commit,
    environment: `local stack (moto, runner containers on dockerd), node ${process.version}, ${new Date().toISOString()}`,
  };
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(resolve(resultsDir, 'warm.json'), `${JSON.stringify(summary, null, 2)}\n`);
  const row = (label: 'cold' | 'warm') => {
    const r = result[label] as { jobs: number; ranOnWarmRunner: number; timeToRunnerMs: Record<string, number> };
    return `| ${label} | ${r.jobs} | ${r.ranOnWarmRunner} | ${r.timeToRunnerMs.p50} / ${r.timeToRunnerMs.p95} / ${r.timeToRunnerMs.p99} |`;
  };
  const markdown = [
    '# Warm pools benchmark',
    '',
    `\`make bench\` on the local stack: one job every ${EVERY_MS / 1000} s to each of two identical Docker pools (maxRunners 4), ${JOBS} per pool;`,
    'the warm one keeps 2 idle runners (`warm.minIdle: 2`). Time to runner: job queued on GitHub (the simulator) → a runner took it.',
    `The simulator gives a queued job to an idle runner ${ASSIGN_DELAY_MS} ms after it queues (GitHub's assignment is asynchronous, about a second).`,
    '',
    '| pool | jobs | ran on a warm runner | time to runner p50 / p95 / p99 (ms) |',
    '| --- | --- | --- | --- |',
    row('cold'),
    row('warm'),
    '',
    `JIT configs for both pools: ${registrations} (${(registrations / (2 * JOBS)).toFixed(2)} per job; a warm runner is registered before its job, not twice).`,
    `IAM: ${iam.evaluated} AWS authorizations evaluated against the synthesized roles, ${iam.denied} denied. Commit ${commit}.`,
    `Environment: ${summary.environment}. On EC2 the cold pool would wait for a VM boot (minutes), not a container start.`,
    '',
  ].join('\n');
  writeFileSync(resolve(resultsDir, 'warm.md'), markdown);
  console.log(markdown);
  code = (result.warm as { ranOnWarmRunner: number }).ranOnWarmRunner > 0 && iam.denied === 0 ? 0 : 1;
} finally {
  await local.stop();
}
process.exit(code);
