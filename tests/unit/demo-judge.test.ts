import { describe, expect, it } from '@jest/globals';
import { judgeRuns } from '../../local/demo';
import type { SimJob } from '../../sim/model';

/* The demo's and the benchmark's detectors: each must see the failure it reports the absence of. */

let nextId = 1;
function job(overrides: Partial<SimJob> & { runners?: string[] } = {}): SimJob {
  const { runners = ['r1'], ...rest } = overrides;
  return {
    id: nextId++,
    runId: 1,
    owner: 'o',
    repo: 'r',
    repoId: 1,
    name: 'lint',
    workflowName: 'CI',
    labels: ['docker'],
    durationMs: 1,
    outcome: 'success',
    installationId: 1,
    createdAt: 0,
    status: 'completed',
    conclusion: 'success',
    runnerName: runners.at(-1),
    assignments: runners.map((runnerName, at) => ({ runnerName, at })),
    ...rest,
  };
}

describe('the run detectors', () => {
  it('a job given to one runner that succeeded ran exactly once', () => {
    const j = job();
    expect(judgeRuns([j], [j], new Set())).toMatchObject({ ran: [j], ranMoreThanOnce: 0, died: [], failedOtherwise: [] });
  });

  it('a job given to two runners ran more than once, not exactly once', () => {
    const j = job({ runners: ['r1', 'r2'] });
    expect(judgeRuns([j], [j], new Set())).toMatchObject({ ran: [], ranMoreThanOnce: 1 });
  });

  it('a job that succeeded and was re-run to success again ran more than once', () => {
    const first = job();
    const rerun = job({ rerunOf: first.id, runners: ['r2'] });
    expect(judgeRuns([first], [first, rerun], new Set())).toMatchObject({ ran: [], ranMoreThanOnce: 1 });
  });

  it('a job killed with its host died; re-run to success it ran once and did not die', () => {
    const killed = job({ conclusion: 'failure', endedBy: 'lost-communication' });
    expect(judgeRuns([killed], [killed], new Set([killed.id]))).toMatchObject({ ran: [], died: [killed], failedOtherwise: [] });
    const rerun = job({ rerunOf: killed.id, runners: ['r2'] });
    expect(judgeRuns([killed], [killed, rerun], new Set([killed.id]))).toMatchObject({ ran: [rerun], ranMoreThanOnce: 0, died: [], failedOtherwise: [] });
  });

  it('a failure that no host death explains failed otherwise', () => {
    const failed = job({ conclusion: 'failure', endedBy: 'runner' });
    expect(judgeRuns([failed], [failed], new Set())).toMatchObject({ ran: [], died: [], failedOtherwise: [failed] });
  });
});
