import type { Pool } from '@runners/shared';

/*
 * The one contract every host kind implements. create is idempotent by runner name (a second create returns the
 * first host), delete is idempotent (absent = done), list returns the hosts carrying our tags/labels — what the
 * reconciler compares with the table.
 */

export interface HostSpec {
  readonly runnerName: string;
  readonly pool: Pool;
  readonly jobId: number;
  /** Single-use: the runner registers with it; never a long-lived secret on the host. */
  readonly encodedJitConfig: string;
  readonly traceHeader?: string;
}

export interface HostRef {
  readonly id: string;
  readonly runnerName: string;
  readonly pool: string;
  readonly jobId?: number;
}

export interface Host {
  readonly kind: Pool['host'];
  create(spec: HostSpec): Promise<HostRef>;
  delete(runnerName: string): Promise<'deleted' | 'absent'>;
  list(): Promise<HostRef[]>;
}

/**
 * The runner reads its `--jitconfig` input from this variable when it is not in its arguments, and removes it from
 * its environment before any job step runs (actions/runner, src/Runner.Listener/CommandSettings.cs: inputs from
 * `ACTIONS_RUNNER_INPUT_<NAME>`). Container hosts pass the config this way, never as an argument.
 */
export const JIT_CONFIG_ENV = 'ACTIONS_RUNNER_INPUT_JITCONFIG';

/** Tag / label names on every host we create. */
export const HOST_LABELS = {
  managedBy: 'ephemeral-runners.managed-by',
  pool: 'ephemeral-runners.pool',
  runner: 'ephemeral-runners.runner',
  job: 'ephemeral-runners.job',
  trace: 'ephemeral-runners.trace',
} as const;

export class UnknownHostKindError extends Error {
  constructor(kind: string) {
    super(`no host implementation for kind "${kind}"`);
    this.name = 'UnknownHostKindError';
  }
}

/** A host that cannot be made for this pool however often it is tried (its image, template or permissions are wrong). */
export class PermanentHostError extends Error {
  constructor(
    readonly reason: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'PermanentHostError';
  }
}
