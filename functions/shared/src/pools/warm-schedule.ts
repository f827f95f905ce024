import { Cron } from 'croner';

/*
 * Warm windows: when a pool wants more idle runners than its base (cron windows in a time zone). Croner evaluates the
 * crons (time zones through Intl, no date library bundled).
 */

export interface WarmWindow {
  /** When the window opens (5-field cron, in `timezone`). */
  readonly cron: string;
  readonly durationMinutes: number;
  readonly minIdle: number;
  readonly timezone: string;
}

export interface WarmPoolSettings {
  /** Whose runners they are: the organization (org scope) or the repository's owner (repo scope). */
  readonly owner: string;
  /** Repo scope: the repository the warm runners register on. */
  readonly repo?: string;
  readonly minIdle: number;
  /** A warm runner beyond what is wanted now (a window closed) is torn down once idle this long. */
  readonly idleTimeoutMinutes: number;
  readonly windows: readonly WarmWindow[];
}

/** How many idle runners the pool should have at `now`: the base, or the largest of the open windows. */
export function wantedIdle(settings: WarmPoolSettings | undefined, now: Date): number {
  if (!settings) return 0;
  let wanted = settings.minIdle;
  for (const window of settings.windows) {
    if (window.minIdle <= wanted) continue;
    // The latest opening at or before now (croner includes a run earlier in the reference's second).
    const [opened] = new Cron(window.cron, { timezone: window.timezone, paused: true }).previousRuns(1, new Date(now.getTime() + 1));
    if (opened && now.getTime() - opened.getTime() < window.durationMinutes * 60_000) wanted = window.minIdle;
  }
  return wanted;
}

/** The cron problem of an expression, or undefined when it parses. */
export function cronProblem(expression: string, timezone: string): string | undefined {
  if (expression.trim().split(/\s+/).length !== 5) return 'expected 5 cron fields: minute hour day-of-month month day-of-week';
  try {
    // Croner checks the time zone only when it computes a date.
    new Cron(expression, { timezone, paused: true }).nextRun();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
