import type { HostInterruptionKind } from '@runners/shared';

/**
 * EC2's EventBridge `detail-type`s for an instance that will be, or may soon be, reclaimed (AWS, "Spot Instance
 * interruption notices", "EC2 instance rebalance recommendations"). Apart from interruptions.ts so that the deployment
 * contract can name them without loading the orchestrator.
 */
export const INTERRUPTION_KINDS = {
  'EC2 Spot Instance Interruption Warning': 'spot-interruption',
  'EC2 Instance Rebalance Recommendation': 'rebalance-recommendation',
} as const satisfies Record<string, HostInterruptionKind>;

export const INTERRUPTION_DETAIL_TYPES = Object.keys(INTERRUPTION_KINDS) as (keyof typeof INTERRUPTION_KINDS)[];
