import type { DemoOptions } from '../demo';
import type { LocalStack, LocalStackOptions } from '../stack';
import { startDockerFaultProxy, type DockerFaultProxy } from './docker-fault-proxy';

/*
 * The chaos scenario, one definition for `DEMO_SCENARIO=chaos make demo`, its e2e test and the reliability bench:
 * 10 % duplicated, 5 % reordered, 2 % dropped webhooks; 5 % of container creations failing; GitHub 5xx (2 %) and
 * secondary rate limits (1 %); 3 % of jobs cancelled, spread over the run — while queued, while their runner is
 * launching, while running; 2 % of runner hosts killed mid-job (SIGKILL, as a spot reclaim or a crashed VM: the
 * runner goes offline and GitHub fails its job when the job request is no longer renewed); the Docker orchestrator
 * crashed once between "JIT config generated" and "host created" (at its 20th container creation). Time runs faster
 * than on AWS: the orchestrator's host rules every 5 s, the reconciler (redelivery, lost jobs, leftover
 * registrations) every 30 s, and GitHub's clocks in the simulator — a silent runner offline after 5 s instead of
 * ~90 s, a job not renewed failed after 15 s instead of 10 minutes (renewals every 2 s instead of 60).
 * Scale-set pools get what touches them instead of the webhook faults: the Actions service failing 2 % of its requests
 * with 5xx, the listener killed mid-poll twice with its successor's first session refused (409) each time, and the scale-set clocks
 * scaled too (CHAOS_SCALE_SET_TIMING).
 */

export const CHAOS_FAULTS: NonNullable<DemoOptions['chaos']> = {
  webhooks: { drop: 0.02, duplicate: 0.1, reorder: 0.05, loseCompleted: 0.01 },
  rest: { serverError: 0.02, secondaryRateLimit: 0.01 },
  cancelFraction: 0.03,
  hostDeathFraction: 0.02,
  // Scale-set pools (the webhook faults do not touch them): 2 % of the Actions service's requests fail with 5xx; the
  // listener is killed mid-poll twice, and its successor's first session is refused (409) each time.
  scaleSets: { brokerServerError: 0.02, sessionConflictsPerCrash: 1 },
  listenerCrashes: 2,
};

/**
 * The scale-set side's clocks, scaled as the rest: an assignment no runner takes is withdrawn after 20 s (a Docker
 * runner starts in a few), re-assigned 2, 4, 6 s later; the listener's schedule every 5 s with a 10 s lease, so a
 * killed listener is replaced within about 15 s; a withdrawal not followed by a new assignment within 30 s is a cancel.
 */
export const CHAOS_SCALE_SET_TIMING = { assignTimeoutMs: 20_000, requeueDelayMs: 2_000 } as const;

/** GitHub's clocks, scaled as the scenario's time is (see above). */
export const CHAOS_SIM_TIMING = { offlineAfterMs: 5_000, jobLockMs: 15_000, renewEveryMs: 2_000, cancelTimeoutMs: 10_000 } as const;

export interface ChaosScenario {
  /** What the local stack needs for it. */
  readonly stackOptions: Pick<
    LocalStackOptions,
    'hostRulesTickMs' | 'reconcilerTickMs' | 'orchestratorDockerHost' | 'simTiming' | 'simScaleSets' | 'listenerTickMs' | 'listenerEnvironment'
  >;
  /** Arms the orchestrator crash, once the stack runs. */
  attach(local: LocalStack): void;
  readonly proxy: DockerFaultProxy;
  close(): Promise<void>;
}

export async function startChaosScenario(): Promise<ChaosScenario> {
  const proxy = await startDockerFaultProxy({ createFailureRate: 0.05, crashAtCreates: [20] });
  return {
    stackOptions: {
      hostRulesTickMs: 5_000,
      reconcilerTickMs: 30_000,
      orchestratorDockerHost: proxy.dockerHost,
      simTiming: CHAOS_SIM_TIMING,
      simScaleSets: CHAOS_SCALE_SET_TIMING,
      listenerTickMs: 5_000,
      listenerEnvironment: { LEASE_SECONDS: '10', WITHDRAWN_GRACE_SECONDS: '30' },
    },
    attach(local) {
      const orchestrator = local.functions.get('orchestrator-docker');
      if (!orchestrator) throw new Error('the local stack has no Docker orchestrator to crash');
      proxy.onCrash(() => orchestrator.crash());
    },
    proxy,
    close: () => proxy.close(),
  };
}
