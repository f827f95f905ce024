import { createSocket, type Socket } from 'node:dgram';
import { appendFileSync } from 'node:fs';

/*
 * The local stack's X-Ray daemon: what the X-Ray SDK behind Powertools Tracer sends to (UDP, AWS_XRAY_DAEMON_ADDRESS;
 * each datagram a JSON header line `{"format": "json", "version": 1}` then one segment document — X-Ray developer
 * guide, "Sending segment documents to the X-Ray daemon"). It keeps every segment and subsegment it receives, indexed
 * by trace and by the `jobId` annotation, and appends each to a JSON-lines file that `make trace` reads.
 */

export interface SegmentDocument {
  readonly id: string;
  readonly trace_id: string;
  readonly name: string;
  readonly start_time: number;
  readonly end_time?: number;
  readonly in_progress?: boolean;
  readonly parent_id?: string;
  readonly type?: 'subsegment';
  readonly origin?: string;
  readonly annotations?: Record<string, string | number | boolean>;
  readonly metadata?: Record<string, Record<string, unknown>>;
  readonly http?: { readonly request?: { readonly url?: string; readonly method?: string }; readonly response?: { readonly status?: number } };
  readonly aws?: { readonly operation?: string; readonly table_name?: string };
  readonly namespace?: string;
  readonly error?: boolean;
  readonly fault?: boolean;
  readonly subsegments?: readonly SegmentDocument[];
}

/** A segment or subsegment, flattened: with the trace it is in and the segment it hangs under. */
export type CollectedSegment = SegmentDocument & { readonly traceId: string };

const HEADER = /^\{"format":\s*"json",\s*"version":\s*1\}\n/;

/** One datagram → its segment document; throws on anything else (a daemon drops those). */
export function parseDatagram(datagram: string): SegmentDocument {
  if (!HEADER.test(datagram)) throw new Error('not an X-Ray daemon datagram: the header line is missing');
  const document = JSON.parse(datagram.replace(HEADER, '')) as SegmentDocument;
  if (
    typeof document.id !== 'string' ||
    typeof document.trace_id !== 'string' ||
    typeof document.name !== 'string' ||
    typeof document.start_time !== 'number'
  ) {
    throw new Error('not a segment document: id, trace_id, name and start_time are required');
  }
  return document;
}

/** A segment with its nested subsegments, flattened (each subsegment gets its trace and parent). */
export function flatten(document: SegmentDocument, traceId = document.trace_id, parentId = document.parent_id): CollectedSegment[] {
  const self: CollectedSegment = { ...document, traceId, ...(parentId ? { parent_id: parentId } : {}), subsegments: undefined };
  return [self, ...(document.subsegments ?? []).flatMap((child) => flatten({ ...child, trace_id: traceId }, traceId, document.id))];
}

export class TraceStore {
  private readonly segments: CollectedSegment[] = [];
  private readonly byTrace = new Map<string, CollectedSegment[]>();
  private readonly tracesOfJob = new Map<string, Set<string>>();

  add(document: SegmentDocument): void {
    for (const segment of flatten(document)) {
      this.segments.push(segment);
      const trace = this.byTrace.get(segment.traceId);
      if (trace) trace.push(segment);
      else this.byTrace.set(segment.traceId, [segment]);
      const jobId = segment.annotations?.jobId;
      if (jobId !== undefined) this.tracesOfJob.set(String(jobId), (this.tracesOfJob.get(String(jobId)) ?? new Set()).add(segment.traceId));
    }
  }

  all(): readonly CollectedSegment[] {
    return this.segments;
  }

  trace(traceId: string): readonly CollectedSegment[] {
    return this.byTrace.get(traceId) ?? [];
  }

  /** What X-Ray's `annotation.jobId = "…"` filter finds: the traces holding a segment annotated with the job. */
  tracesOf(jobId: number | string): string[] {
    return [...(this.tracesOfJob.get(String(jobId)) ?? [])];
  }

  /** Every segment of every trace of the job. */
  ofJob(jobId: number | string): CollectedSegment[] {
    return this.tracesOf(jobId).flatMap((t) => [...this.trace(t)]);
  }

  jobIds(): string[] {
    return [...this.tracesOfJob.keys()];
  }
}

export interface TraceCollector {
  /** `127.0.0.1:<port>`, for AWS_XRAY_DAEMON_ADDRESS. */
  readonly address: string;
  readonly store: TraceStore;
  /** Datagrams that were not segment documents. */
  readonly rejected: () => number;
  stop(): Promise<void>;
}

export async function startTraceCollector(options: { readonly file?: string } = {}): Promise<TraceCollector> {
  const socket: Socket = createSocket('udp4');
  const store = new TraceStore();
  let rejected = 0;
  socket.on('message', (message) => {
    try {
      const document = parseDatagram(message.toString('utf8'));
      store.add(document);
      if (options.file) appendFileSync(options.file, `${JSON.stringify(document)}\n`);
    } catch {
      rejected++;
    }
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  return {
    address: `127.0.0.1:${port}`,
    store,
    rejected: () => rejected,
    stop: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
