/*
 * The reliability benchmark's `scaleset` scenario: the same two Docker pools as bench/pools.reliability.ts (names,
 * labels, limits), taking their jobs from runner scale sets instead of webhooks, so the two intakes compare job for job.
 */
import { definePoolsConfig } from '@runners/shared';
import reliability from './pools.reliability';

export default definePoolsConfig({
  ...reliability,
  pools: reliability.pools.map((pool) => ({ ...pool, intake: 'scaleset' as const, scaleSet: { owner: 'octo-org' } })),
});
