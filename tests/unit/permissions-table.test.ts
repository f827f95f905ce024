import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { permissionsTable, PERMISSIONS_BEGIN, PERMISSIONS_END, PERMISSIONS_PAGE } from '../../scripts/permissions-table';

/* The permissions table in docs/security.md is the contracts', generated: it cannot say something the roles do not. */
describe('docs/security.md permissions table', () => {
  it('is exactly what the deployment contracts generate (npx tsx scripts/permissions-table.ts --write)', () => {
    const page = readFileSync(resolve(PERMISSIONS_PAGE), 'utf8');
    const section = page.slice(page.indexOf(PERMISSIONS_BEGIN), page.indexOf(PERMISSIONS_END) + PERMISSIONS_END.length);

    expect(section).toBe(permissionsTable());
    // It names what the review found missing, so a contract that loses it changes the page.
    expect(section).toMatch(/\| reconciler \| LostJobs \| `dynamodb:BatchGetItem`/);
    expect(section).toMatch(/\| orchestrator-ec2 \| ResolveImages \| `ssm:GetParameters`/);
    expect(section).toMatch(/\| runner-lambda \(one per Lambda pool\) \| — \|/);
  });
});
