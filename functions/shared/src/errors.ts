/** Base of every error the domain core raises: a name per subclass, structured fields, `cause` kept. */
export class RunnersError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RunnersError';
  }
}

export interface ConfigIssue {
  /** Dotted path of the offending field, e.g. `pools[2].maxRunners`. */
  readonly path: string;
  readonly message: string;
}

/** The pools config (or the environment) is invalid; every problem is collected, none is fixed silently. */
export class ConfigError extends RunnersError {
  readonly issues: readonly ConfigIssue[];

  constructor(source: string, issues: readonly ConfigIssue[]) {
    super(`${source} is invalid:\n${issues.map((issue) => `  - ${issue.path}: ${issue.message}`).join('\n')}`);
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

/** A webhook payload does not have the shape of a `workflow_job` event. */
export class PayloadError extends RunnersError {
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[]) {
    super(`workflow_job payload is invalid: ${issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')}`);
    this.name = 'PayloadError';
    this.issues = issues;
  }
}

/** The pool names a runner group the organisation does not have: no launch into it can succeed until it exists. */
export class RunnerGroupMissingError extends RunnersError {
  constructor(
    readonly group: string,
    readonly org: string,
  ) {
    super(`runner group "${group}" does not exist in ${org}`);
    this.name = 'RunnerGroupMissingError';
  }
}

/** Our own storage failed; the caller must report a retryable failure (GitHub then records a failed delivery). */
export class StorageError extends RunnersError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StorageError';
  }
}

/** GitHub refused to delete a runner that is running a job: its own completion will tear it down. */
export class RunnerBusyError extends RunnersError {
  constructor(
    readonly runnerId: number,
    options?: ErrorOptions,
  ) {
    super(`runner ${runnerId} is running a job; GitHub refuses to delete it`, options);
    this.name = 'RunnerBusyError';
  }
}
