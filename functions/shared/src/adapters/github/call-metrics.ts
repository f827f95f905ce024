/** The part of a Powertools Metrics instance this needs (kept structural: the core does not import Powertools). */
interface MetricsLike {
  singleMetric(): { addDimension(name: string, value: string): void; addMetric(name: string, unit: 'Count', value: number): void };
  addMetric(name: string, unit: 'Count', value: number): void;
}

/**
 * A GitHubClient `onCall` that records every GitHub API call as the `GitHubCalls` metric, per operation and status
 * class (2xx, 304, 4xx, 5xx, error): calls per job is the number competitors are judged on. And the rate limit GitHub
 * reports as left, as `GitHubRateLimitRemaining` (the dashboard shows its minimum).
 */
export function recordGitHubCalls(metrics: MetricsLike): (operation: string, status: number, rateLimitRemaining?: number) => void {
  return (operation, status, rateLimitRemaining) => {
    if (rateLimitRemaining !== undefined && Number.isFinite(rateLimitRemaining)) metrics.addMetric('GitHubRateLimitRemaining', 'Count', rateLimitRemaining);
    const metric = metrics.singleMetric();
    metric.addDimension('operation', operation);
    metric.addDimension('status', status === 0 ? 'error' : status === 304 ? '304' : `${Math.floor(status / 100)}xx`);
    metric.addMetric('GitHubCalls', 'Count', 1);
  };
}
