import { RunnersError } from '../../errors';

/*
 * The Actions service's refusals. Its error body is `{ typeName: "<.NET exception>, <assembly>", message }` (or plain
 * text); actions/scaleset errors.go tells them apart by a substring of typeName, and so do we.
 */

export class ScaleSetApiError extends RunnersError {
  constructor(
    readonly operation: string,
    readonly status: number,
    /** The .NET exception's name without its namespace and assembly (`RunnerScaleSetSessionConflictException`). */
    readonly exception: string | undefined,
    detail: string,
    /** `ActivityId` of the Actions service's answer: what GitHub support asks for. */
    readonly activityId?: string,
  ) {
    super(`${operation} answered ${status}${exception ? ` ${exception}` : ''}: ${detail}`);
    this.name = 'ScaleSetApiError';
  }

  is(exception: ScaleSetException): boolean {
    return this.exception === exception;
  }
}

export type ScaleSetException =
  /** Another session of the scale set is open (a listener that crashed without deleting it, until GitHub reaps it). */
  | 'RunnerScaleSetSessionConflictException'
  /** The session is gone (deleted, reaped). */
  | 'RunnerScaleSetSessionExpiredException'
  /** The scale set was deleted on GitHub's side (idle clean-up, an admin): re-create it. */
  | 'RunnerScaleSetNotFoundException'
  | 'AgentExistsException'
  | 'AgentNotFoundException'
  | 'JobStillRunningException';

/** The exception's short name from a typeName such as `GitHub.Actions.Runtime.WebApi.XException, GitHub.Actions…`. */
export function exceptionOf(typeName: unknown): string | undefined {
  if (typeof typeName !== 'string' || typeName === '') return undefined;
  const full = typeName.split(',')[0]!.trim();
  return full.slice(full.lastIndexOf('.') + 1) || undefined;
}

/** The message queue's token expired (any 401 of the queue): refresh the session and try once more. */
export class MessageQueueTokenExpiredError extends RunnersError {
  constructor(readonly operation: string) {
    super(`${operation}: the message queue token expired`);
    this.name = 'MessageQueueTokenExpiredError';
  }
}
