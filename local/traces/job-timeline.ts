import { percentiles } from '../percentiles';
import type { CollectedSegment } from './trace-collector';

/*
 * A job's stage timeline, from the segments of its trace (see functions/shared/src/adapters/tracing/job-segment.ts): when
 * GitHub queued it, when each function of ours took it, when GitHub gave it a runner. Each step between two stages is
 * owned by someone — GitHub, us, AWS (a stream, a queue), the host — so the system's own overhead is told apart from
 * GitHub's and the host's time.
 */

export const STAGES = [
  'queued on GitHub',
  'webhook',
  'table',
  'messenger',
  'publisher',
  'orchestrator',
  'JIT config',
  'host created',
  'job started',
  'completed',
] as const;
export type Stage = (typeof STAGES)[number];

/** Who the time from the previous stage to this one belongs to. */
export const OWNER: Record<Stage, string> = {
  'queued on GitHub': '',
  webhook: 'GitHub (webhook delivery)',
  table: 'producer',
  messenger: 'DynamoDB stream',
  publisher: 'publisher, and the wait for a free runner slot',
  orchestrator: 'SNS → SQS → orchestrator',
  'JIT config': 'GitHub (generate-jitconfig)',
  'host created': 'host API',
  'job started': 'host boot + runner + GitHub assignment + its webhook',
  completed: 'the job itself + its webhook',
};

/** The steps that are the control plane's own work (or its AWS plumbing), not GitHub's, the host's or the job's. */
export const OWN_STEPS: readonly Stage[] = ['table', 'messenger', 'publisher', 'orchestrator'];

export type Timeline = Partial<Record<Stage, number>>;

const stageOf = (s: CollectedSegment) => (typeof s.annotations?.stage === 'string' ? s.annotations.stage : undefined);
const github = (s: CollectedSegment | undefined) => (s?.metadata?.default?.github ?? {}) as { createdAt?: string; startedAt?: string; completedAt?: string };
const ms = (seconds: number | undefined) => (seconds === undefined ? undefined : Math.round(seconds * 1000));
const iso = (time: string | undefined) => (time ? Date.parse(time) : undefined);

/** Epoch ms of each stage the segments show; a stage they do not show is absent. */
export function jobTimeline(all: readonly CollectedSegment[]): Timeline {
  // The job's own trace (the one its first webhook started); the invocations' traces only point at it.
  const origin = all.filter((s) => stageOf(s) === 'webhook:queued').sort((a, b) => a.start_time - b.start_time)[0];
  const segments = origin ? all.filter((s) => s.traceId === origin.traceId) : all;
  const first = (stage: string) => segments.filter((s) => stageOf(s) === stage).sort((a, b) => a.start_time - b.start_time)[0];
  const queued = first('webhook:queued');
  const started = first('webhook:in_progress');
  const completed = first('webhook:completed');
  // When we learned of it: GitHub's own times have whole seconds only, too coarse to order against ours.
  const startedAt = ms(started?.start_time);
  // The launch whose runner ran the job: the last one that began before the job started (earlier ones failed).
  const launches = segments
    .filter((s) => stageOf(s) === 'launch' && (startedAt === undefined || s.start_time * 1000 <= startedAt))
    .sort((a, b) => a.start_time - b.start_time);
  const launch = launches.at(-1);
  const inLaunch = (name: string) =>
    launch ? segments.find((s) => s.name === `### ${name}` && s.parent_id === launch.id && s.traceId === launch.traceId) : undefined;
  const dispatches = segments
    .filter((s) => stageOf(s) === 'dispatch' && (!launch || s.start_time <= launch.start_time))
    .sort((a, b) => a.start_time - b.start_time);
  const timeline: Timeline = {
    // GitHub's creation time (whole seconds): never after the webhook that told of it.
    'queued on GitHub': Math.min(iso(github(queued).createdAt) ?? Number.POSITIVE_INFINITY, ms(queued?.start_time) ?? Number.POSITIVE_INFINITY),
    webhook: ms(queued?.start_time),
    table: ms(queued?.end_time),
    messenger: ms(first('stream:queued')?.start_time),
    publisher: ms(dispatches.at(-1)?.start_time),
    orchestrator: ms(launch?.start_time),
    'JIT config': ms(inLaunch('jit-config')?.end_time),
    'host created': ms(inLaunch('host-create')?.end_time),
    'job started': startedAt,
    completed: ms(completed?.start_time),
  };
  return Object.fromEntries(Object.entries(timeline).filter(([, v]) => v !== undefined && Number.isFinite(v))) as Timeline;
}

/** Milliseconds from the stage before to each stage (when both are known). */
export function stepDurations(timeline: Timeline): Partial<Record<Stage, number>> {
  const out: Partial<Record<Stage, number>> = {};
  for (let i = 1; i < STAGES.length; i++) {
    const [before, stage] = [timeline[STAGES[i - 1]!], timeline[STAGES[i]!]];
    if (before !== undefined && stage !== undefined) out[STAGES[i]!] = stage - before;
  }
  return out;
}

export type StagePercentiles = Partial<Record<Stage, { readonly p50: number; readonly p95: number; readonly p99: number; readonly jobs: number }>>;

/** Per step, over many jobs: p50/p95/p99 of the milliseconds from the stage before (jobs that show both stages). */
export function stagePercentiles(timelines: readonly Timeline[]): StagePercentiles {
  const out: StagePercentiles = {};
  for (const stage of STAGES.slice(1)) {
    const steps = timelines.map((t) => stepDurations(t)[stage]).filter((v): v is number => v !== undefined);
    if (steps.length > 0) out[stage] = { ...(percentiles(steps) as { p50: number; p95: number; p99: number }), jobs: steps.length };
  }
  return out;
}

/** The timeline as a table for a terminal. */
export function formatTimeline(jobId: number | string, timeline: Timeline): string {
  const origin = timeline['queued on GitHub'] ?? timeline.webhook;
  if (origin === undefined) return `job ${jobId}: no trace of it (is the job id right, and did the stack that ran it write this trace file?)`;
  const steps = stepDurations(timeline);
  const rows = STAGES.map((stage) => {
    const at = timeline[stage];
    if (at === undefined) return `  ${stage.padEnd(18)} ${'—'.padStart(9)}`;
    const step = steps[stage];
    return `  ${stage.padEnd(18)} ${`+${at - origin} ms`.padStart(11)}  ${step === undefined ? '' : `${`${step} ms`.padStart(9)}  ${OWNER[stage]}`}`;
  });
  const own = OWN_STEPS.reduce((sum, stage) => sum + (steps[stage] ?? 0), 0);
  return [
    `job ${jobId}: stage timeline (from GitHub's creation of the job)`,
    ...rows,
    `  the control plane's own steps (${OWN_STEPS.join(', ')}): ${own} ms`,
  ].join('\n');
}
