import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import Docker from 'dockerode';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HOST_LABELS } from '@runners/orchestrators/hosts';
import { jobTimeline, STAGES } from '../../local/traces/job-timeline';
import type { CollectedSegment } from '../../local/traces/trace-collector';
import { startLocalStack, throwawayStack, type LocalStack } from '../../local/stack';
import { waitUntil } from '../helpers/simulator';

/*
 * One trace per job, through the whole local system with tracing on as on AWS: the functions' X-Ray SDK (behind
 * Powertools Tracer) sends real segments over UDP to the stack's collector. Every function on the job's path puts its
 * work for the job in the job's trace (started by the first webhook, carried on the record across the stream, on the
 * messages after it), annotated with the job; the invocations' own traces are linked to it; the host gets it too.
 */

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));

describe('one trace per job', () => {
  let local: LocalStack;
  let jobId: number;
  let traceLabel: string | undefined;
  beforeAll(async () => {
    local = await startLocalStack({ ...(await throwawayStack(root, 'traces')), logLevel: 'ERROR' });
    const response = await fetch(`${local.sim!.url}/_sim/runs`, {
      method: 'POST',
      body: JSON.stringify({ owner: 'octo-org', repo: 'app', jobs: [{ labels: ['self-hosted', 'docker'], durationMs: 1_500 }] }),
    });
    jobId = ((await response.json()) as { jobs: { id: number }[] }).jobs[0]!.id;
    const job = () => local.sim!.model.jobs.get(jobId)!;
    await waitUntil('the job running', () => job().status === 'in_progress', 60_000);
    const [container] = await new Docker().listContainers({ filters: { label: [`${HOST_LABELS.runner}=${job().runnerName}`] } });
    traceLabel = container?.Labels[HOST_LABELS.trace];
    await waitUntil('the job done and its runner gone', async () => job().status === 'completed' && (await local.runnerHosts.list()).length === 0, 60_000);
    // The teardown's segments are sent when its invocation ends.
    await waitUntil('the teardown traced', () => local.traces.store.ofJob(jobId).some((s) => s.annotations?.stage === 'teardown'), 15_000);
  }, 180_000);
  afterAll(async () => local?.stop(), 60_000);

  const jobTrace = () => local.traces.store.ofJob(jobId).find((s) => s.annotations?.stage === 'webhook:queued')!.traceId;
  const inJobTrace = (): readonly CollectedSegment[] => local.traces.store.trace(jobTrace());
  const stageSegment = (stage: string) => inJobTrace().find((s) => s.annotations?.stage === stage);

  it('puts every function on the job’s path in the job’s trace, annotated with the job, its pool and (once it has one) its runner', () => {
    const runnerName = local.sim!.model.jobs.get(jobId)!.runnerName!;
    const expected: [string, string, boolean][] = [
      ['webhook:queued', 'ephemeral-runners-producer', false],
      ['stream:queued', 'ephemeral-runners-messenger', false],
      ['dispatch', 'ephemeral-runners-publisher', true],
      ['launch', 'ephemeral-runners-orchestrator-docker', true],
      ['webhook:in_progress', 'ephemeral-runners-producer', true],
      ['webhook:completed', 'ephemeral-runners-producer', true],
      ['stream:finished', 'ephemeral-runners-messenger', false],
      ['teardown', 'ephemeral-runners-orchestrator-docker', true],
    ];
    for (const [stage, fn, hasRunner] of expected) {
      const segment = stageSegment(stage);
      expect({ stage, found: segment !== undefined }).toEqual({ stage, found: true });
      expect(segment!.annotations).toMatchObject({ jobId: String(jobId), pool: 'docker-linux', ...(hasRunner ? { runnerName } : {}) });
      // Its own segment (the function's, as X-Ray shows a service), or a subsegment of the producer that started the trace.
      let owner: CollectedSegment | undefined = segment;
      while (owner?.type === 'subsegment') owner = inJobTrace().find((s) => s.id === owner!.parent_id);
      expect({ stage, function: owner?.name }).toEqual({ stage, function: fn });
    }
  });

  it('has the launch’s steps and calls under the launch: the JIT config (GitHub), the host creation (Docker), the table writes', () => {
    const launch = stageSegment('launch')!;
    const under = inJobTrace().filter((s) => s.parent_id === launch.id);
    expect(under.map((s) => s.name)).toEqual(expect.arrayContaining(['### jit-config', '### host-create', 'DynamoDB']));
    const jit = under.find((s) => s.name === '### jit-config')!;
    expect(
      inJobTrace()
        .filter((s) => s.parent_id === jit.id)
        .map((s) => s.http?.request?.url),
    ).toEqual(expect.arrayContaining([expect.stringMatching(/\/actions\/runners\/generate-jitconfig$/)]));
  });

  it('links each invocation that handled the job to the job’s trace, and X-Ray’s annotation.jobId query finds them all', () => {
    const traces = local.traces.store.tracesOf(jobId);
    const invocations = traces.filter((t) => t !== jobTrace());
    expect(invocations.length).toBeGreaterThanOrEqual(3); // the publisher's round, the launch, the later webhooks, the teardown
    for (const trace of invocations) {
      const annotated = local.traces.store.trace(trace).filter((s) => s.annotations?.jobId === String(jobId));
      expect(annotated.length).toBeGreaterThan(0);
      // The producer's later webhooks carry the job in their handler's annotations; the rest link by metadata.
      const linked = annotated.some((s) => s.metadata?.default?.jobTrace === jobTrace()) || annotated.some((s) => s.annotations?.Service === 'producer');
      expect({ trace, linked }).toEqual({ trace, linked: true });
    }
  });

  it('hands the job’s trace to its host (the container’s label) and yields a full stage timeline', () => {
    expect(traceLabel).toMatch(new RegExp(`^Root=${jobTrace()};Parent=[0-9a-f]{16};Sampled=1$`));
    const timeline = jobTimeline(local.traces.store.ofJob(jobId));
    expect(Object.keys(timeline)).toEqual([...STAGES]);
    const times = STAGES.map((stage) => timeline[stage]!);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(local.traces.rejected()).toBe(0);
  });
});
