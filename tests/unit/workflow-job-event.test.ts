import { describe, expect, it } from '@jest/globals';
import { canAdvance, JOB_STATES, parseWorkflowJobEvent, PayloadError, STATE_RANK } from '@runners/shared';
import { examplePayload, workflowJobExamples } from '../helpers/webhooks';

describe('workflow_job payload schema', () => {
  it.each(workflowJobExamples().map((e) => [e.title, e.payload] as const))('accepts the real example %s', (_title, payload) => {
    const event = parseWorkflowJobEvent(payload, 'delivery-1');

    expect(event.jobId).toBe(payload.workflow_job.id);
    expect(event.action).toBe(payload.action);
    expect(event.labels).toEqual(payload.workflow_job.labels);
    expect(`${event.owner}/${event.repo}`).toBe(payload.repository.full_name);
    expect(event.installationId).toBe(payload.installation?.id);
  });

  it('ignores a runner name on a queued job (only an assignment names the runner)', () => {
    const event = parseWorkflowJobEvent(examplePayload('queued', { runnerName: 'stale' }), 'd');

    expect(event.runnerName).toBeUndefined();
  });

  it('keeps the runner name of a completed job, and none for a job cancelled while queued', () => {
    expect(parseWorkflowJobEvent(examplePayload('completed', { runnerName: 'gha-docker-1-1' }), 'd').runnerName).toBe('gha-docker-1-1');
    expect(parseWorkflowJobEvent(examplePayload('completed', { runnerName: null, conclusion: 'cancelled' }), 'd').runnerName).toBeUndefined();
  });

  it.each([
    ['unknown action', { ...examplePayload('queued'), action: 'requested' }, 'action'],
    ['job id as a string', { ...examplePayload('queued'), workflow_job: { ...examplePayload('queued').workflow_job, id: '1' } }, 'workflow_job.id'],
    [
      'labels not a list',
      { ...examplePayload('queued'), workflow_job: { ...examplePayload('queued').workflow_job, labels: 'self-hosted' } },
      'workflow_job.labels',
    ],
    ['no repository', { ...examplePayload('queued'), repository: undefined }, 'repository'],
    ['not an object', ['queued'], '(root)'],
  ])('rejects %s, naming %s', (_title, payload, path) => {
    let caught: unknown;
    try {
      parseWorkflowJobEvent(payload, 'd');
    } catch (error) {
      caught = error;
    }

    expect(caught).toBeInstanceOf(PayloadError);
    expect((caught as PayloadError).issues.map((i) => i.path)).toContain(path);
  });
});

describe('job state machine', () => {
  it('orders the states waiting < queued < dispatched < in_progress < completed', () => {
    const ranks = JOB_STATES.map((s) => STATE_RANK[s]);

    expect([...ranks].sort((a, b) => a - b)).toEqual(ranks);
  });

  it('only moves forward: a duplicate or an older state changes nothing', () => {
    expect(canAdvance(undefined, 'completed')).toBe(true);
    expect(canAdvance('queued', 'in_progress')).toBe(true);
    expect(canAdvance('queued', 'queued')).toBe(false);
    expect(canAdvance('completed', 'queued')).toBe(false);
    expect(canAdvance('dispatched', 'queued')).toBe(false);
    expect(canAdvance('queued', 'waiting')).toBe(false);
  });
});
