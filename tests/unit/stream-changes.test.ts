import { describe, expect, it } from '@jest/globals';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { poolChanges } from '@runners/messenger';

function record(before: Record<string, unknown> | undefined, after: Record<string, unknown> | undefined): DynamoDBRecord {
  return {
    eventName: before ? (after ? 'MODIFY' : 'REMOVE') : 'INSERT',
    dynamodb: {
      OldImage: before ? (marshall(before) as never) : undefined,
      NewImage: after ? (marshall(after) as never) : undefined,
      SequenceNumber: '1',
    },
  };
}

const job = { pk: 'JOB#1', state: 'queued' };

describe('messenger: which stream changes the publisher must act on', () => {
  it('a job entering a pool queue', () => {
    expect(poolChanges(record(undefined, { ...job, queueKey: 'p1' }))).toEqual([{ pool: 'p1', reason: 'queued' }]);
  });

  it('a completed job entering the finished index', () => {
    expect(poolChanges(record({ ...job, state: 'dispatched' }, { ...job, state: 'completed', finishedKey: 'p1' }))).toEqual([
      { pool: 'p1', reason: 'finished' },
    ]);
  });

  it('a slot released by someone other than the publisher', () => {
    expect(poolChanges(record({ ...job, slotPool: 'p2' }, { ...job, slotReleasedBy: 'orchestrator' }))).toEqual([{ pool: 'p2', reason: 'released' }]);
  });

  it("nothing for the publisher's own writes: dispatch, its own releases, requeues", () => {
    expect(poolChanges(record({ ...job, queueKey: 'p1' }, { ...job, state: 'dispatched', slotPool: 'p1' }))).toEqual([]);
    expect(poolChanges(record({ ...job, slotPool: 'p1' }, { ...job, slotReleasedBy: 'publisher' }))).toEqual([]);
    expect(poolChanges(record({ ...job, state: 'dispatched', slotPool: 'p1' }, { ...job, queueKey: 'p1', slotReleasedBy: 'publisher' }))).toEqual([]);
  });

  it('nothing for unchanged keys, TTL removals, or pool records', () => {
    expect(poolChanges(record({ ...job, queueKey: 'p1' }, { ...job, queueKey: 'p1', updatedAt: 'x' }))).toEqual([]);
    expect(poolChanges(record({ ...job, queueKey: 'p1' }, undefined))).toEqual([]);
    expect(poolChanges(record(undefined, { pk: 'POOL#p1', version: 1 }))).toEqual([]);
  });

  it('refuses an image that is not a job record', () => {
    expect(() => poolChanges(record(undefined, { notPk: 1 }))).toThrow();
  });
});
