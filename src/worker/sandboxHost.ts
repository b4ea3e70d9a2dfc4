import { RewardError, type Sample } from '../core/reward/reward.ts';
import { rewardHelpers } from '../core/reward/helpers.ts';
import type { QuickJsModules } from '../core/reward/sandbox/quickjsModules.ts';
import { SandboxReward } from '../core/reward/sandbox/sandboxReward.ts';
import type { RewardSpec, SandboxLimits } from '../core/reward/sandbox/types.ts';
import type { SandboxApi, SandboxOutcome } from './trainerApi.ts';
import { prepareHelpers } from '../core/tasks/index.ts';

/**
 * The sandbox worker: reward code runs here and nowhere else. It keeps the
 * compiled reward until different code or limits arrive. Whoever holds this
 * worker ends it when a batch outlives its time limit (a built-in can run long
 * between QuickJS's interrupt checks), so nothing here needs to be trusted to stop.
 */
export class SandboxHost implements SandboxApi {
  #modules: QuickJsModules;
  #reward: SandboxReward | null = null;
  #key = '';

  constructor(modules: QuickJsModules) {
    this.#modules = modules;
  }

  async score(specs: RewardSpec[], limits: SandboxLimits, samples: Sample[], ctx: { iteration: number; task: string }): Promise<SandboxOutcome> {
    try {
      const reward = await this.#load(specs, limits);
      const scores = await reward.score(samples, { ...ctx, helpers: rewardHelpers });
      return { ok: true, scores };
    } catch (e) {
      return failed(e, this.#reward?.lastLogs);
    }
  }

  /** Compiles in a fresh runtime: each applied reward starts from a clean interpreter. */
  async compile(specs: RewardSpec[], limits: SandboxLimits): Promise<SandboxOutcome<null>> {
    try {
      await this.#load(specs, limits, true);
      return { ok: true, scores: null };
    } catch (e) {
      return failed(e);
    }
  }

  async warm(): Promise<void> {
    await Promise.all([this.#modules.ready(), prepareHelpers()]);
  }

  async #load(specs: RewardSpec[], limits: SandboxLimits, fresh = false): Promise<SandboxReward> {
    const code = JSON.stringify(specs);
    if (this.#reward && this.#key === code && !fresh) {
      this.#reward.setLimits(limits);
      return this.#reward;
    }
    this.#reward?.dispose();
    this.#reward = null;
    this.#reward = await SandboxReward.create(this.#modules, specs, limits);
    this.#key = code;
    return this.#reward;
  }
}

function failed(e: unknown, logs?: SandboxReward['lastLogs']): { ok: false; message: string; details: RewardError['details']; logs?: SandboxReward['lastLogs'] } {
  if (e instanceof RewardError) return { ok: false, message: e.message, details: e.details, logs };
  return { ok: false, message: `the reward sandbox failed: ${e instanceof Error ? e.message : String(e)}`, details: { kind: 'sandbox' }, logs };
}
