import type { Tracer } from '@aws-lambda-powertools/tracer';

/** What identifies a job in a trace: X-Ray annotations are indexed, so `annotation.jobId = "…"` finds every segment. */
export interface JobAnnotations {
  readonly jobId: number;
  readonly pool?: string;
  readonly runnerName?: string;
}

/**
 * Runs `work` for one job in a subsegment of its own, annotated with the job: a batch handles many jobs at once, and
 * the invocation's segment can carry only one value per annotation. The AWS and GitHub calls inside land under it.
 */
export async function inJobSegment<T>(tracer: Tracer, name: string, job: JobAnnotations, work: () => Promise<T>): Promise<T> {
  if (!tracer.isTracingEnabled() || !tracer.getSegment()) return work();
  return tracer.provider.captureAsyncFunc(`### ${name}`, async (subsegment) => {
    subsegment?.addAnnotation('jobId', String(job.jobId));
    if (job.pool) subsegment?.addAnnotation('pool', job.pool);
    if (job.runnerName) subsegment?.addAnnotation('runnerName', job.runnerName);
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
