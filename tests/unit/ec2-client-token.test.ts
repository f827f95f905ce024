import { describe, expect, it } from '@jest/globals';
import { clientToken } from '@runners/orchestrators/hosts';

/* RunInstances' ClientToken: ≤ 64 ASCII characters (EC2 API reference), and distinct for every choice of a runner. */

describe('EC2 ClientToken', () => {
  it('stays within 64 characters and differs per market, instance type and subnet, even for the longest runner names', () => {
    const runner = 'gha-a-very-long-pool-name-for-many-jobs-1234567890123-1';
    const tokens = new Set<string>();
    for (const market of ['spot', 'on-demand'])
      for (const type of ['m7i.large', 'm7i.xlarge', 'c7i.large'])
        for (const subnet of ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1', undefined]) {
          const token = clientToken(runner, market, type, subnet);
          expect(token.length).toBeLessThanOrEqual(64);
          expect(token).toMatch(/^[\x21-\x7e]+$/);
          tokens.add(token);
        }
    expect(tokens.size).toBe(18);
    // The same choice gives the same token: a retried call is idempotent.
    expect(clientToken(runner, 'spot', 'm7i.large', undefined)).toBe(clientToken(runner, 'spot', 'm7i.large', undefined));
    expect(clientToken('gha-x-1-1', 'spot', 'm7i.large', undefined)).not.toBe(clientToken('gha-x-2-1', 'spot', 'm7i.large', undefined));
  });
});
