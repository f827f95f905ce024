import { describe, expect, it } from '@jest/globals';
import { parseInterruption } from '@runners/orchestrators';

/* EC2's events as EventBridge delivers them (AWS, "Spot Instance interruption notices": the example event). */
const warning = {
  version: '0',
  id: '12345678-1234-1234-1234-123456789012',
  'detail-type': 'EC2 Spot Instance Interruption Warning',
  source: 'aws.ec2',
  account: '123456789012',
  time: '2026-12-02T12:00:00Z',
  region: 'us-east-2',
  resources: ['arn:aws:ec2:us-east-2a:instance/i-1234567890abcdef0'],
  detail: { 'instance-id': 'i-1234567890abcdef0', 'instance-action': 'terminate' },
};

describe('EC2 interruption events', () => {
  it('reads a spot interruption warning and a rebalance recommendation, naming the instance', () => {
    expect(parseInterruption(warning)).toEqual({ kind: 'spot-interruption', hostId: 'i-1234567890abcdef0' });
    const rebalance = { ...warning, 'detail-type': 'EC2 Instance Rebalance Recommendation', detail: { 'instance-id': 'i-0abc' } };
    expect(parseInterruption(rebalance)).toEqual({ kind: 'rebalance-recommendation', hostId: 'i-0abc' });
  });

  it('is not an interruption: a schedule tick, an SQS batch, another EC2 event, one without an instance', () => {
    expect(parseInterruption({ source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} })).toBeUndefined();
    expect(parseInterruption({ Records: [] })).toBeUndefined();
    expect(parseInterruption({ ...warning, 'detail-type': 'EC2 Instance State-change Notification' })).toBeUndefined();
    expect(parseInterruption({ ...warning, detail: {} })).toBeUndefined();
  });
});
