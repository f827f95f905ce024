/*
 * How many runners a pool may launch now. Two limits:
 *   in flight < maxRunners, where in flight = the runners holding a slot: those the slots index shows, plus those of
 *     the last seconds' launches it may not show yet (a GSI is eventually consistent), confirmed by consistent reads
 *     of their job records — so the count is exact, never a counter that drifts;
 *   launches in the last 60 s < launchesPerMinute (a sliding window, so no burst of 2× at a minute boundary).
 */

export const RATE_WINDOW_MS = 60_000;
/** Longer than a GSI takes to show a write (typically well under a second). */
export const INDEX_LAG_MS = 10_000;

export interface RecentLaunch {
  readonly runnerName: string;
  readonly at: number;
}

/** The per-pool record the publisher keeps: launches per second (rate window) and launches of the lag window. */
export interface PoolLaunchLog {
  /** [epoch second, launches in that second], the last 60 s. */
  readonly perSecond: readonly (readonly [number, number])[];
  /** Launches of the last INDEX_LAG_MS, by runner name. */
  readonly recent: readonly RecentLaunch[];
  readonly version: number;
}

export const EMPTY_LAUNCH_LOG: PoolLaunchLog = { perSecond: [], recent: [], version: 0 };

export interface PoolCapacity {
  readonly inFlight: number;
  readonly launchesInWindow: number;
  /** What may be launched now: both limits applied, never negative. */
  readonly available: number;
}

/** Launches of the lag window that the slots index does not show: their slots must be confirmed another way. */
export function unconfirmedLaunches(log: PoolLaunchLog, indexed: { has(runnerName: string): boolean }, now: number): string[] {
  return log.recent.filter((l) => l.at > now - INDEX_LAG_MS && !indexed.has(l.runnerName)).map((l) => l.runnerName);
}

/** `inFlight`: the runners holding a slot of the pool (index ∪ confirmed recent launches). */
export function poolCapacity(
  limits: { readonly maxRunners: number; readonly launchesPerMinute: number },
  inFlight: number,
  log: PoolLaunchLog,
  now: number,
): PoolCapacity {
  const launchesInWindow = log.perSecond.filter(([second]) => second * 1000 > now - RATE_WINDOW_MS).reduce((sum, [, n]) => sum + n, 0);
  const available = Math.max(0, Math.min(limits.maxRunners - inFlight, limits.launchesPerMinute - launchesInWindow));
  return { inFlight, launchesInWindow, available };
}

/** The log after recording `launches` at `now`, pruned to what still matters. */
export function recordLaunches(log: PoolLaunchLog, runnerNames: readonly string[], now: number): PoolLaunchLog {
  const second = Math.floor(now / 1000);
  const perSecond = new Map(log.perSecond.filter(([s]) => s * 1000 > now - RATE_WINDOW_MS).map(([s, n]) => [s, n] as [number, number]));
  perSecond.set(second, (perSecond.get(second) ?? 0) + runnerNames.length);
  return {
    perSecond: [...perSecond.entries()].sort((a, b) => a[0] - b[0]),
    recent: [...log.recent.filter((l) => l.at > now - INDEX_LAG_MS), ...runnerNames.map((runnerName) => ({ runnerName, at: now }))],
    version: log.version + 1,
  };
}
