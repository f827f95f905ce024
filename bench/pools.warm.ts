/*
 * The warm-pool benchmark's pools: two identical Docker pools, one keeping 2 idle runners ahead of its jobs.
 */
import { definePoolsConfig } from '@runners/shared';

const image = 'ephemeral-runners/sim-runner:latest';
const pool = { host: 'docker', os: 'linux', arch: 'x64', maxRunners: 4, launchesPerMinute: 120, docker: { image, cpus: 0.5, memoryMb: 256 } } as const;

export default definePoolsConfig({
  github: { scope: 'org', runnerGroup: 'Default' },
  pools: [
    { ...pool, name: 'docker-cold', labels: ['cold'] },
    { ...pool, name: 'docker-warm', labels: ['warm'], warm: { owner: 'octo-org', minIdle: 2 } },
  ],
});
