import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import type { SegmentDocument } from './trace-collector';

/*
 * What the Lambda service does for an actively traced function, emulated by the local runtime: each invocation gets a
 * trace header in `_X_AMZN_TRACE_ID` (`Root=1-<epoch hex>-<96 bits>;Parent=<64 bits>;Sampled=1`: X-Ray developer
 * guide, "Tracing header"), and the service records the function's segment (origin AWS::Lambda::Function) whose id is
 * that Parent, so the SDK's subsegments (the handler, AWS calls) hang under it.
 */

export interface InvocationTrace {
  readonly traceId: string;
  readonly segmentId: string;
  readonly header: string;
  readonly startTime: number;
}

export function newInvocationTrace(now = Date.now()): InvocationTrace {
  const traceId = `1-${Math.floor(now / 1000)
    .toString(16)
    .padStart(8, '0')}-${randomBytes(12).toString('hex')}`;
  const segmentId = randomBytes(8).toString('hex');
  return { traceId, segmentId, header: `Root=${traceId};Parent=${segmentId};Sampled=1`, startTime: now / 1000 };
}

/** The function's segment of one invocation, sent to the daemon as the Lambda service sends it. */
export function sendFunctionSegment(daemonAddress: string, trace: InvocationTrace, functionName: string, outcome: { readonly error?: boolean }): Promise<void> {
  const document: SegmentDocument = {
    id: trace.segmentId,
    trace_id: trace.traceId,
    name: functionName,
    origin: 'AWS::Lambda::Function',
    start_time: trace.startTime,
    end_time: Date.now() / 1000,
    ...(outcome.error ? { fault: true } : {}),
  };
  return sendDocument(daemonAddress, document);
}

export function sendDocument(daemonAddress: string, document: SegmentDocument): Promise<void> {
  const [host = '127.0.0.1', port = '2000'] = daemonAddress.split(':');
  const socket = createSocket('udp4');
  const datagram = Buffer.from(`{"format": "json", "version": 1}\n${JSON.stringify(document)}`);
  return new Promise((resolve) => socket.send(datagram, Number(port), host, () => socket.close(() => resolve())));
}
