/*
 * The benchmarks' pools: one pool sized so that flow control never holds a job back, so what is measured is the
 * pipeline itself (webhook → table → stream → messenger → publisher → pool queue).
 */
import { definePoolsConfig } from '@runners/shared';

export default definePoolsConfig({
  github: { scope: 'org' },
  // The jobs of this benchmark are webhooks only (nothing on the simulator to write a check run on).
  notices: { checkRuns: false },
  pools: [
    {
      name: 'bench',
      host: 'docker',
      os: 'linux',
      arch: 'x64',
      labels: ['bench'],
      maxRunners: 10_000,
      launchesPerMinute: 1_000,
      docker: { image: 'ephemeral-runners/sim-runner:latest' },
    },
  ],
});
