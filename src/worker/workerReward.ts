import { RewardError, type RewardContext, type RewardModel, type RewardScores, type Sample } from '../core/reward/reward.ts';
import type { RewardLog, RewardSpec, SandboxLimits } from '../core/reward/sandbox/types.ts';
import type { SandboxClient } from './sandboxClient.ts';

/** The rewards training scores through, run in the sandbox worker. */
export class WorkerReward implements RewardModel {
  readonly names: readonly string[];
  readonly specs: readonly RewardSpec[];
  #client: SandboxClient;
  #limits: SandboxLimits;
  /** Console output of the last batch, per component. */
  lastLogs: RewardLog[] = [];

  /** Compiles the rewards in the sandbox; throws a RewardError naming what does not compile. */
  static async create(client: SandboxClient, specs: readonly RewardSpec[], limits: SandboxLimits): Promise<WorkerReward> {
    const outcome = await client.compile([...specs], limits);
    if (!outcome.ok) throw new RewardError(outcome.message, outcome.details);
    return new WorkerReward(client, specs, limits);
  }

  private constructor(client: SandboxClient, specs: readonly RewardSpec[], limits: SandboxLimits) {
    this.#client = client;
    this.specs = specs.map((s) => ({ ...s }));
    this.names = specs.map((s) => s.name);
    this.#limits = { ...limits };
  }

  setLimits(limits: SandboxLimits): void {
    this.#limits = { ...limits };
  }

  async score(samples: readonly Sample[], ctx: RewardContext): Promise<RewardScores> {
    const plain = samples.map((s) => ({ ...s })); // plain data; the sandbox flattens it for reward code (plainSample)
    const outcome = await this.#client.score([...this.specs], this.#limits, plain, { iteration: ctx.iteration, task: ctx.task });
    if (!outcome.ok) {
      this.lastLogs = outcome.logs ?? [];
      throw new RewardError(outcome.message, outcome.details);
    }
    this.lastLogs = outcome.scores.logs ?? [];
    return outcome.scores;
  }
}
