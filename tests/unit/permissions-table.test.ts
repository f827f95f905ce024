import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { permissionsTable, PERMISSIONS_BEGIN, PERMISSIONS_END } from '../../scripts/permissions-table';

/* The README's permissions table is the contracts', generated: it cannot say something the roles do not. */
describe('README permissions table', () => {
  it('is exactly what the deployment contracts generate (npx tsx scripts/permissions-table.ts --write)', () => {
    const readme = readFileSync(resolve('README.md'), 'utf8');
    const section = readme.slice(readme.indexOf(PERMISSIONS_BEGIN), readme.indexOf(PERMISSIONS_END) + PERMISSIONS_END.length);

    expect(section).toBe(permissionsTable());
    // It names what the review found missing, so a contract that loses it changes the README.
    expect(section).toMatch(/\| reconciler \| LostJobs \| `dynamodb:BatchGetItem`/);
    expect(section).toMatch(/\| orchestrator-ec2 \| ResolveImages \| `ssm:GetParameters`/);
    expect(section).toMatch(/\| runner-lambda \(one per Lambda pool\) \| — \|/);
  });
});
