import type { Tracer } from '@aws-lambda-powertools/tracer';
import AWSXRay, { type Subsegment } from 'aws-xray-sdk-core';

// CommonJS: its classes are properties of the default export (Node's ESM loader does not see them as named exports).
const { Segment } = AWSXRay;
type Segment = InstanceType<typeof Segment>;

/*
 * One trace per job. The producer's first webhook of a job starts the job's trace and records its header on the job
 * (`traceHeader`); every later hop — the stream (which carries no trace context), the publisher, the orchestrator, the
 * notifier, later webhooks — continues that trace from the record or the message: the work for the job runs in a
 * segment of this function *in the job's trace*, annotated with the job, its AWS and GitHub calls under it. The
 * invocation's own trace keeps an annotated subsegment pointing at the job's trace (metadata `jobTrace`), so X-Ray's
 * `annotation.jobId = "123"` finds both. X-Ray annotations are indexed for filter expressions; metadata is not
 * (X-Ray developer guide, "Segment documents": annotations).
 */

/** What identifies a job in a trace, and the trace it belongs to. */
export interface JobAnnotations {
  readonly jobId: number;
  readonly pool?: string;
  readonly runnerName?: string;
  /** The job's trace header (`Root=…;Parent=…;Sampled=1`), as recorded on the job. */
  readonly traceHeader?: string;
}

export interface TraceContext {
  readonly root: string;
  readonly parent?: string;
  readonly sampled: boolean;
}

/** `Root=1-…;Parent=…;Sampled=1` → its parts (X-Ray developer guide, "Tracing header"); undefined if not one. */
export function parseTraceHeader(header: string | undefined): TraceContext | undefined {
  if (!header) return undefined;
  const parts = Object.fromEntries(header.split(';').map((p) => p.trim().split('=') as [string, string]));
  if (!parts.Root || !/^1-[0-9a-f]{8}-[0-9a-f]{24}$/.test(parts.Root)) return undefined;
  return { root: parts.Root, ...(parts.Parent && /^[0-9a-f]{16}$/.test(parts.Parent) ? { parent: parts.Parent } : {}), sampled: parts.Sampled !== '0' };
}

const functionName = () => process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'function';

function annotate(target: Segment | Subsegment, stage: string, job: JobAnnotations): void {
  target.addAnnotation('jobId', String(job.jobId));
  target.addAnnotation('stage', stage);
  if (job.pool) target.addAnnotation('pool', job.pool);
  if (job.runnerName) target.addAnnotation('runnerName', job.runnerName);
}

/** The job's trace, when it is not the invocation's own (then the work goes in a segment of its own there). */
function jobTraceElsewhere(tracer: Tracer, job: JobAnnotations): TraceContext | undefined {
  const context = parseTraceHeader(job.traceHeader);
  if (!context?.sampled) return undefined;
  return context.root === tracer.getRootXrayTraceId() ? undefined : context;
}

/**
 * Runs `work` for one job as stage `stage` of its trace (see above). A batch handles many jobs at once: each gets its
 * own segment and annotations, where the invocation's segment could carry only one value per annotation.
 */
export async function inJobSegment<T>(tracer: Tracer, stage: string, job: JobAnnotations, work: () => Promise<T>): Promise<T> {
  if (!tracer.isTracingEnabled() || !tracer.getSegment()) return work();
  return tracer.provider.captureAsyncFunc(`### ${stage}`, async (subsegment) => {
    if (subsegment) annotate(subsegment, stage, job);
    const elsewhere = jobTraceElsewhere(tracer, job);
    const segment = elsewhere ? new Segment(functionName(), elsewhere.root, elsewhere.parent) : undefined;
    if (segment) {
      segment.origin = 'AWS::Lambda::Function';
      annotate(segment, stage, job);
      segment.addMetadata('invocationTrace', tracer.getRootXrayTraceId());
      subsegment?.addMetadata('jobTrace', elsewhere!.root);
    }
    try {
      if (!segment) return await work();
      return await (tracer.provider.getNamespace().runAndReturn(() => {
        tracer.provider.setSegment(segment);
        return work();
      }) as Promise<T>);
    } catch (error) {
      subsegment?.addError(error as Error);
      segment?.addError(error as Error);
      throw error;
    } finally {
      segment?.close();
      subsegment?.close();
    }
  }) as Promise<T>;
}

/** A stage of the job that already happened (`startedMs` until now): recorded in the job's trace after the fact. */
export function recordJobStage(tracer: Tracer, stage: string, job: JobAnnotations, startedMs: number, metadata: Record<string, unknown> = {}): void {
  if (!tracer.isTracingEnabled()) return;
  const current = tracer.getSegment();
  if (!current) return;
  const elsewhere = jobTraceElsewhere(tracer, job);
  const target = elsewhere ? new Segment(functionName(), elsewhere.root, elsewhere.parent) : current.addNewSubsegment(`### ${stage}`);
  target.start_time = startedMs / 1000;
  if (target instanceof Segment) target.origin = 'AWS::Lambda::Function';
  annotate(target, stage, job);
  for (const [key, value] of Object.entries(metadata)) target.addMetadata(key, value);
  target.close();
}

/** A named step inside the current segment (a JIT config, a host creation), for the job's timeline. */
export function inSubsegment<T>(tracer: Tracer, name: string, work: () => Promise<T>): Promise<T> {
  if (!tracer.isTracingEnabled() || !tracer.getSegment()) return work();
  return tracer.provider.captureAsyncFunc(`### ${name}`, async (subsegment) => {
    try {
      return await work();
    } catch (error) {
      subsegment?.addError(error as Error);
      throw error;
    } finally {
      subsegment?.close();
    }
  }) as Promise<T>;
}
