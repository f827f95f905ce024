import { execFileSync } from 'node:child_process';

/** The commit a benchmark measured, `-dirty` when the tree had uncommitted changes (a result not to publish). */
export function measuredCommit(root: string): string {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim();
  return `${git('rev-parse', '--short=12', 'HEAD')}${git('status', '--porcelain', '--untracked-files=no') ? '-dirty' : ''}`;
}
