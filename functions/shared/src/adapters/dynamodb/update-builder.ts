import type { JobRecord } from '../../jobs/job-record';

type Name<T> = keyof T & string;

/**
 * Builds one UpdateItem expression from named parts, so each transition says only what it changes. Typed by the
 * record's attributes: a misspelt name or a value of the wrong type does not compile.
 */
export class UpdateBuilder<T = JobRecord> {
  private readonly sets: string[] = [];
  private readonly removes: string[] = [];
  readonly names: Record<string, string> = {};
  readonly values: Record<string, unknown> = {};

  set<K extends Name<T>>(attribute: K, value: T[K] | undefined, mode: 'always' | 'ifAbsent' = 'always'): this {
    if (value === undefined) return this;
    const name = `#${attribute}`;
    this.names[name] = attribute;
    this.values[`:${attribute}`] = value;
    this.sets.push(mode === 'always' ? `${name} = :${attribute}` : `${name} = if_not_exists(${name}, :${attribute})`);
    return this;
  }

  /** SET of a nested attribute (`job.pool`), each part of the path a name of its own. */
  setPath(path: readonly [Name<T>, ...string[]], value: unknown): this {
    if (value === undefined) return this;
    for (const part of path) this.names[`#${part}`] = part;
    const placeholder = `:${path.join('_')}`;
    this.values[placeholder] = value;
    this.sets.push(`${path.map((part) => `#${part}`).join('.')} = ${placeholder}`);
    return this;
  }

  /** REMOVE of a nested attribute. */
  removePath(path: readonly [Name<T>, ...string[]]): this {
    for (const part of path) this.names[`#${part}`] = part;
    this.removes.push(path.map((part) => `#${part}`).join('.'));
    return this;
  }

  remove(...attributes: readonly Name<T>[]): this {
    for (const attribute of attributes) {
      this.names[`#${attribute}`] = attribute;
      this.removes.push(`#${attribute}`);
    }
    return this;
  }

  expression(): string {
    const parts: string[] = [];
    if (this.sets.length > 0) parts.push(`SET ${this.sets.join(', ')}`);
    if (this.removes.length > 0) parts.push(`REMOVE ${this.removes.join(', ')}`);
    return parts.join(' ');
  }
}
