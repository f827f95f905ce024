import { execFileSync } from 'node:child_process';

/**
 * The commit a benchmark measured, `-dirty` when the tree had uncommitted changes (a result not to publish) — other
 * than the benchmarks' own results, which one `make bench` writes before its next benchmark starts.
 */
export function measuredCommit(root: string): string {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim();
  const changed = git('status', '--porcelain', '--untracked-files=no', '--', '.', ':(exclude)bench/results');
  return `${git('rev-parse', '--short=12', 'HEAD')}${changed ? '-dirty' : ''}`;
}
