import type { RunnerScope } from '../../github/github-model';
import { scaleSetLabelsOf, scaleSetNameOf, type Pool, type PoolsConfig } from '../../pools/pools-config';
import type { GitHubClient } from '../github/github-client';
import { ActionsService, type ActionsServiceOptions, type JitRunnerConfig, type ScaleSetSpec } from './actions-service';
import { ScaleSetApiError } from './scale-set-errors';

/*
 * The scale sets of a deployment's scale-set pools, through one App: its Actions service connection per installation
 * and scope, and each pool's scale set found (or created) once and remembered — until GitHub answers that it is gone
 * (RunnerScaleSetNotFoundException: deleted by an admin, or by GitHub after a long idle), when it is made again.
 */

/** Where a scale-set pool's scale set lives and what it is. */
export interface ScaleSetTarget {
  readonly pool: string;
  readonly scope: RunnerScope;
  readonly runnerGroup: string | undefined;
  readonly labels: readonly string[];
  readonly name: string;
}

export function scaleSetTargetOf(config: Pick<PoolsConfig, 'github'>, pool: Pool, deploymentLabel?: string): ScaleSetTarget {
  if (pool.intake !== 'scaleset' || !pool.scaleSet) throw new Error(`pool ${pool.name} does not take its jobs from a scale set`);
  const scope: RunnerScope =
    config.github.scope === 'org' ? { kind: 'org', org: pool.scaleSet.owner } : { kind: 'repo', owner: pool.scaleSet.owner, repo: pool.scaleSet.repo ?? '' };
  // The deployment's label too: the passes that remove leaked registrations touch only runners that carry it.
  const labels = [...scaleSetLabelsOf(pool), ...(deploymentLabel ? [deploymentLabel] : [])];
  return { pool: pool.name, scope, runnerGroup: pool.runnerGroup ?? config.github.runnerGroup, labels, name: scaleSetNameOf(pool) };
}

const scopeKey = (installationId: number, scope: RunnerScope) =>
  `${installationId}/${scope.kind === 'org' ? scope.org : `${scope.owner}/${scope.repo}`}`.toLowerCase();

export class ScaleSets {
  private readonly services = new Map<string, ActionsService>();
  private readonly ids = new Map<string, Promise<number>>();

  constructor(
    private readonly github: Pick<GitHubClient, 'actionsServiceConnection'>,
    private readonly options: Omit<ActionsServiceOptions, 'connect'> = {},
  ) {}

  /** The Actions service as this installation sees the scope. */
  service(installationId: number, scope: RunnerScope): ActionsService {
    const key = scopeKey(installationId, scope);
    let service = this.services.get(key);
    if (!service) {
      service = new ActionsService({ ...this.options, connect: () => this.github.actionsServiceConnection(installationId, scope) });
      this.services.set(key, service);
    }
    return service;
  }

  /** The pool's scale set id: found by name (labels put right) or created, once per process. */
  scaleSetId(installationId: number, target: ScaleSetTarget): Promise<number> {
    const key = `${scopeKey(installationId, target.scope)}/${target.name}`;
    let id = this.ids.get(key);
    if (!id) {
      const service = this.service(installationId, target.scope);
      id = service.runnerGroupId(target.runnerGroup).then(async (runnerGroupId) => (await service.ensureScaleSet(specOf(target, runnerGroupId))).id);
      id.catch(() => this.ids.delete(key));
      this.ids.set(key, id);
    }
    return id;
  }

  /** GitHub said the scale set is gone: the next use finds or creates it again. */
  forget(installationId: number, target: ScaleSetTarget): void {
    this.ids.delete(`${scopeKey(installationId, target.scope)}/${target.name}`);
  }

  /** Runs `work` on the pool's scale set; once more on a new one if GitHub deleted it. */
  async onScaleSet<T>(installationId: number, target: ScaleSetTarget, work: (service: ActionsService, scaleSetId: number) => Promise<T>): Promise<T> {
    const service = this.service(installationId, target.scope);
    try {
      return await work(service, await this.scaleSetId(installationId, target));
    } catch (error) {
      if (!(error instanceof ScaleSetApiError && error.is('RunnerScaleSetNotFoundException'))) throw error;
      this.forget(installationId, target);
      return work(service, await this.scaleSetId(installationId, target));
    }
  }

  /** A JIT runner of the pool's scale set. */
  jitConfig(installationId: number, target: ScaleSetTarget, runnerName: string, workFolder = '_work'): Promise<JitRunnerConfig> {
    return this.onScaleSet(installationId, target, (service, id) => service.generateJitConfig(id, runnerName, workFolder));
  }

  /** Deregisters the scale set's runner of this name (a crashed attempt's), if there is one. */
  async removeRunnerNamed(installationId: number, target: ScaleSetTarget, runnerName: string): Promise<'removed' | 'absent'> {
    const service = this.service(installationId, target.scope);
    const runner = await service.runnerByName(runnerName);
    return runner ? service.removeRunner(runner.id) : 'absent';
  }
}

const specOf = (target: ScaleSetTarget, runnerGroupId: number): ScaleSetSpec => ({ name: target.name, runnerGroupId, labels: target.labels });
