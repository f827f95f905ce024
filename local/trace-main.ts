/*
 * `make trace JOB=<job id>`: the job's stage timeline from the traces the local stack collected
 * (<LOCAL_STACK_DIR>/traces.jsonl, written while `make local` or `make demo` runs). Without JOB: the latest jobs.
 * On AWS the same segments are in X-Ray: see the README ("Tracing").
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatTimeline, jobTimeline } from './traces/job-timeline';
import { TraceStore, type SegmentDocument } from './traces/trace-collector';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const file = resolve(root, process.env.LOCAL_STACK_DIR ?? '.local', 'traces.jsonl');
if (!existsSync(file)) {
  console.error(`no traces at ${file}: start the local stack (make local) and run a job first`);
  process.exit(1);
}
const store = new TraceStore();
for (const line of readFileSync(file, 'utf8').split('\n')) if (line.trim()) store.add(JSON.parse(line) as SegmentDocument);

const wanted = process.env.JOB ? [process.env.JOB] : store.jobIds().slice(-5);
if (wanted.length === 0) console.log('no job in the traces yet');
for (const jobId of wanted) console.log(formatTimeline(jobId, jobTimeline(store.ofJob(jobId))));
