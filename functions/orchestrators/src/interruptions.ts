import type { HostInterruptionKind } from '@runners/shared';
import { INTERRUPTION_DETAIL_TYPES, INTERRUPTION_KINDS } from './interruption-events';
import * as z from 'zod';
import { retireIdleRunner, type OrchestratorPorts } from './orchestrate';

/*
 * EC2 tells a spot instance two minutes ahead that it will be reclaimed ("EC2 Spot Instance Interruption Warning"),
 * and earlier that it is at elevated risk ("EC2 Instance Rebalance Recommendation"); both arrive as EventBridge events
 * from `aws.ec2` naming the instance (AWS, "Spot Instance interruption notices" and "EC2 instance rebalance
 * recommendations"). The runner's record is marked, so that when its job fails — GitHub fails it once the reclaimed
 * runner stops renewing — the failure is classified as interrupted (and re-run, if the pool says so) instead of a
 * build failure. A runner still idle on such a host is torn down now and its job relaunched on a fresh host.
 * On the local stack a Docker container stands for the instance: the event names its container id.
 */

const interruptionEvent = z.object({
  source: z.literal('aws.ec2'),
  'detail-type': z.enum(INTERRUPTION_DETAIL_TYPES),
  detail: z.object({ 'instance-id': z.string().min(1), 'instance-action': z.string().optional() }),
});

export interface Interruption {
  readonly kind: HostInterruptionKind;
  readonly hostId: string;
}

/** The interruption an EventBridge event announces, or undefined if it is not one. */
export function parseInterruption(event: unknown): Interruption | undefined {
  const parsed = interruptionEvent.safeParse(event);
  return parsed.success ? { kind: INTERRUPTION_KINDS[parsed.data['detail-type']], hostId: parsed.data.detail['instance-id'] } : undefined;
}

export interface InterruptionReport {
  readonly kind: HostInterruptionKind;
  /** The host is one of ours. */
  readonly found: boolean;
  readonly runnerName?: string;
  /** Idle: torn down now, its job relaunched on a fresh host. */
  readonly tornDown: boolean;
}

export async function handleInterruption(interruption: Interruption, ports: OrchestratorPorts): Promise<InterruptionReport> {
  const host = (await ports.host.list()).find((h) => h.id === interruption.hostId);
  if (!host || host.jobId === undefined) return { kind: interruption.kind, found: false, tornDown: false };
  await ports.launches.markHostInterrupted(host.jobId, host.runnerName, interruption.kind, ports.now());
  const pool = ports.config.pools.find((p) => p.name === host.pool);
  if (!pool) return { kind: interruption.kind, found: true, runnerName: host.runnerName, tornDown: false };
  const job = await ports.launches.job(host.jobId);
  // A busy runner runs on until the reclaim; an idle one goes now, and the job still waiting for it goes back to the
  // publisher for a fresh host at once.
  const failure = { kind: 'transient' as const, reason: interruption.kind, message: `host ${interruption.hostId} is being reclaimed` };
  const retired = job
    ? await retireIdleRunner(job, host.runnerName, pool, 'host-interrupted', { outcome: { retryAtMs: ports.now() }, failure }, ports)
    : 'busy';
  return { kind: interruption.kind, found: true, runnerName: host.runnerName, tornDown: retired !== 'busy' };
}
