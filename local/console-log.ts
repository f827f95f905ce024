/*
 * What `make local` shows while it runs: one readable line per launch, teardown, notice and failure (errors with
 * their cause), from the functions' structured logs (Powertools JSON). Everything the functions log also goes to
 * <stack dir>/functions.log as it was written.
 */

type LogLine = {
  readonly level?: string;
  readonly message?: string;
  readonly timestamp?: string;
  readonly service?: string;
  readonly runnerName?: string;
  readonly pool?: string;
  readonly jobId?: number | string;
  readonly outcome?: string;
  readonly reason?: string;
  readonly title?: string;
  readonly gaveUp?: boolean;
  readonly failure?: { readonly reason?: string; readonly message?: string };
  readonly error?: { readonly name?: string; readonly message?: string; readonly cause?: { readonly name?: string; readonly message?: string } };
  readonly [key: string]: unknown;
};

const PASSES = new Set(['host rules pass', 'redelivery pass', 'lost-job pass', 'open-job pass', 'registration pass']);

const time = (line: LogLine) => (line.timestamp ?? new Date().toISOString()).slice(11, 19);
const pad = (text: string, width: number) => text.padEnd(width);
const errorText = (line: LogLine) => {
  const e = line.error;
  if (!e) return '';
  const cause = e.cause?.message ? ` (cause: ${e.cause.name ? `${e.cause.name}: ` : ''}${e.cause.message})` : '';
  return `: ${e.name ? `${e.name}: ` : ''}${e.message ?? ''}${cause}`;
};

/** The console line for one line a function logged, or undefined for one not worth a line. */
export function consoleLine(rawLine: string): string | undefined {
  let line: LogLine;
  try {
    line = JSON.parse(rawLine) as LogLine;
  } catch {
    // Not a structured log line (a library writing to the console): shown as it is, so nothing is hidden.
    return rawLine.trim() === '' ? undefined : rawLine;
  }
  if (typeof line !== 'object' || line === null) return rawLine;
  const at = time(line);
  const runner = `${pad(line.pool ?? '', 14)} ${line.runnerName ?? ''}`;
  switch (line.message) {
    case 'launch':
      if (line.outcome === 'launched') return `${at} launch    ${runner} (job ${line.jobId})`;
      if (line.outcome === 'lost-ownership') return `${at} launch    ${runner} abandoned: the job went elsewhere meanwhile`;
      return undefined;
    case 'teardown':
      return line.outcome === 'torn-down' ? `${at} teardown  ${runner} (${line.reason ?? 'done'})` : undefined;
    case 'launch failed':
      return `${at} launch failed ${runner}: ${line.failure?.reason ?? ''} ${line.failure?.message ?? ''} — ${line.gaveUp ? 'gave up on the job' : 'the job goes back to the queue'}`;
    case 'check run written':
      return `${at} notice    job ${line.jobId}: ${line.title ?? line.reason ?? ''}`;
    case 'check run resolved':
      return `${at} notice    job ${line.jobId} resolved (${line.outcome})`;
    case 'host interruption':
      return `${at} interrupt ${runner} ${String(line.kind ?? '')}`;
  }
  if (line.message && PASSES.has(line.message)) {
    const counts = Object.entries(line).filter(
      ([key, value]) => typeof value === 'number' && value > 0 && !/ms$|Ms$|duration|cold_start|sampling|xray/i.test(key) && key !== 'jobId',
    );
    return counts.length === 0 ? undefined : `${at} ${line.message}: ${counts.map(([key, value]) => `${key} ${value}`).join(', ')}`;
  }
  if (line.level === 'ERROR' || line.level === 'CRITICAL' || line.level === 'WARN') {
    return `${at} ${line.level === 'WARN' ? 'warning' : 'error  '}   ${line.service ?? ''}: ${line.message ?? ''}${line.jobId !== undefined ? ` (job ${line.jobId})` : ''}${errorText(line)}`;
  }
  return undefined;
}
