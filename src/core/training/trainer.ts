import * as tf from '../tf.ts';
import { adam } from '../ops/adam.ts';
import { HyperparameterError, validateHyperparameters, type Hyperparameters } from '../hyperparameters.ts';
import type { AlgorithmId } from '../algorithms/catalog.ts';
import { ALGORITHMS, startingHyperparameters } from '../algorithms/catalog.ts';
import { ALGORITHM_STEPS } from '../algorithms/index.ts';
import { actionMask, klPerSequence } from '../algorithms/masked.ts';
import { batchProfile, collapseSigns, type BatchProfile } from './collapse.ts';
import { klController, type KlController } from './klController.ts';
import { meanStd, type IterationMetrics } from './metrics.ts';
import { createPolicy } from '../policy/create.ts';
import { copyWeights, type Policy } from '../policy/policy.ts';
import type { RewardModel, Sample } from '../reward/reward.ts';
import { allHelpers } from '../reward/reward.ts';
import { Rng } from '../rng.ts';
import { runawaySigns, type RunawayHistory } from './runaway.ts';
import { collectRollout } from './rollout.ts';
import { completion, sample } from '../policy/sampler.ts';
import { probeSeed, type ProbeRow } from './probes.ts';
import { prepareTask, taskSample, taskTokenizer, type Task } from '../tasks/index.ts';
import type { Tokenizer } from '../policy/tokenizer.ts';
import { assembleLesson, lessonRecorder } from './lessonCapture.ts';
import type { TextLesson } from '../algorithms/lesson.ts';
import { assignWeights, readLearning, restoreOptimizer, type IterationResult, type ScoredSample, type TrainerState } from './runState.ts';

export interface TrainerOptions {
  task: Task;
  /** The pretrained reference policy; the trainer owns it from here and disposes it. */
  reference: Policy;
  hyperparameters: Partial<Hyperparameters>;
  seed: number;
  reward: RewardModel;
  /** PPO unless said. */
  algorithm?: AlgorithmId;
}




/**
 * An RL run: the policy being trained, its frozen reference, the optimizer and
 * every random stream. One `step()` is one iteration: draw prompts, roll out,
 * score, the algorithm's advantages and update (PPO, GRPO or RLOO: one file
 * each in algorithms/), report, adapt beta. A step that fails before the update (a bad reward,
 * say) leaves everything as it was, so the same step can be retried after the
 * cause is fixed.
 */
export class Trainer {
  readonly task: Task;
  readonly tokenizer: Tokenizer;
  readonly reference: Policy;
  readonly policy: Policy;
  readonly algorithm: AlgorithmId;
  #h: Hyperparameters;
  #seed: number;
  #reward: RewardModel;
  #rng!: Rng;
  #optimizer!: tf.Optimizer;
  #kl!: KlController;
  #iteration = 0;
  #scoreStats = { count: 0, mean: 0, m2: 0 };
  #firstProfile: BatchProfile | null = null;
  #runaway: RunawayHistory | null = null;

  constructor(opts: TrainerOptions) {
    this.task = opts.task;
    this.tokenizer = taskTokenizer(opts.task);
    if (opts.reference.config.vocabSize !== this.tokenizer.vocabSize) {
      throw new Error(`reference policy has ${opts.reference.config.vocabSize} tokens, task ${opts.task.id} needs ${this.tokenizer.vocabSize}`);
    }
    this.algorithm = opts.algorithm ?? 'ppo';
    this.#h = this.#fit(startingHyperparameters(this.algorithm, opts.task.hyperparameters, opts.hyperparameters), opts.reference);
    this.#seed = opts.seed;
    this.#reward = opts.reward;
    this.reference = opts.reference;
    this.policy = createPolicy(opts.reference.config);
    this.reset();
  }

  get iteration(): number {
    return this.#iteration;
  }

  get hyperparameters(): Readonly<Hyperparameters> {
    return this.#h;
  }

  get seed(): number {
    return this.#seed;
  }

  /** Back to the reference weights, a fresh optimizer and the seed's first random draw: iteration 0. */
  reset(seed = this.#seed): void {
    this.#seed = seed;
    copyWeights(this.reference, this.policy);
    this.#newOptimizer();
    this.#kl = this.#klController(this.#h);
    this.#rng = new Rng(seed);
    this.#iteration = 0;
    this.#scoreStats = { count: 0, mean: 0, m2: 0 };
    this.#firstProfile = null;
    this.#runaway = null;
  }

  async exportState(): Promise<TrainerState> {
    const learnt = await readLearning(this.policy, this.#optimizer);
    return { iteration: this.#iteration, seed: this.#seed, rng: this.#rng.snapshot(), klCoef: this.#kl.value, scoreStats: { ...this.#scoreStats }, firstProfile: this.#firstProfile, runaway: this.#runaway, hyperparameters: { ...this.#h }, ...learnt };
  }

  /** Continues from an exported state (same task and architecture); weights that do not fit are refused before any is set. */
  async importState(state: TrainerState): Promise<void> {
    assignWeights(this.policy, state.weights);
    this.#h = validateHyperparameters(state.hyperparameters);
    this.#newOptimizer();
    await restoreOptimizer(this.#optimizer, state.optimizer);
    this.#seed = state.seed;
    this.#rng = new Rng(state.seed);
    this.#rng.restore(state.rng);
    this.#kl = this.#klController(this.#h, state.klCoef);
    this.#iteration = state.iteration;
    this.#scoreStats = { ...(state.scoreStats ?? { count: 0, mean: 0, m2: 0 }) };
    this.#firstProfile = state.firstProfile ?? null;
    this.#runaway = state.runaway ?? null;
  }

  /** The scores the algorithm trains on: normalised by running statistics and clipped, when asked; the metrics keep the raw ones. */
  #shapeScores(raw: readonly number[], h: Hyperparameters): number[] {
    let out = [...raw];
    if (h.scoreNormalize) {
      const st = this.#scoreStats;
      for (const x of raw) {
        st.count++;
        const d = x - st.mean;
        st.mean += d / st.count;
        st.m2 += d * (x - st.mean);
      }
      const std = Math.sqrt(st.m2 / Math.max(st.count - 1, 1));
      out = out.map((x) => (x - st.mean) / (std + 1e-8));
    }
    if (h.scoreClip > 0) out = out.map((x) => Math.min(Math.max(x, -h.scoreClip), h.scoreClip));
    return out;
  }

  /** Settings that depend on the algorithm, the task or the policy; the transformer's context must hold prompt and completion. */
  #fit(h: Hyperparameters, policy: Policy): Hyperparameters {
    if (this.#groupSize(h) > 1 && h.batchSize % h.groupSize !== 0) {
      throw new HyperparameterError('groupSize', `groupSize (${h.groupSize}) must divide batchSize (${h.batchSize}) for ${ALGORITHMS[this.algorithm].title}`);
    }
    if (policy.config.arch !== 'transformer') return h;
    const longestPrompt = Math.max(...this.task.prompts.map((p) => this.tokenizer.encode(p).length));
    const most = policy.config.contextLength - longestPrompt;
    if (h.maxLength > most) {
      throw new HyperparameterError('maxLength', `maxLength must be at most ${most} for this transformer (context ${policy.config.contextLength}), got ${h.maxLength}`);
    }
    return h;
  }

  #newOptimizer(): void {
    this.#optimizer?.dispose();
    // Adam eps 1e-5 as in the PPO implementations (tfjs defaults to 1e-7).
    this.#optimizer = adam(this.#h.learningRate, 0.9, 0.999, 1e-5);
  }

  /** Swaps the reward; the policy, optimizer and iteration carry on. */
  setReward(reward: RewardModel): void {
    this.#reward = reward;
  }

  /** Changes settings mid-run. The learning rate and KL controller follow; an adaptive beta keeps its current value. */
  setHyperparameters(h: Partial<Hyperparameters>): void {
    const next = this.#fit(validateHyperparameters({ ...this.#h, ...h }), this.reference);
    const klChanged = next.adaptiveKl !== this.#h.adaptiveKl || next.klCoef !== this.#h.klCoef;
    this.#h = next;
    (this.#optimizer as unknown as { learningRate: number }).learningRate = next.learningRate;
    this.#kl = this.#klController(next, klChanged || !next.adaptiveKl ? next.klCoef : this.#kl.value);
  }

  /** PPO's beta: adaptive or fixed. GRPO and RLOO use fixed coefficients of their own. */
  #klController(h: Hyperparameters, value?: number): KlController {
    return klController({ ...h, adaptiveKl: h.adaptiveKl && ALGORITHMS[this.algorithm].adaptiveKl }, value);
  }

  /** Completions per prompt that are compared with each other: G for GRPO and RLOO, 1 for PPO. */
  #groupSize(h: Hyperparameters): number {
    return ALGORITHMS[this.algorithm].settings.includes('group') ? h.groupSize : 1;
  }

  /** One iteration; with `lesson`, its intermediate numbers too (lesson.ts), as the iteration computed them. */
  async step(options: { lesson?: boolean } = {}): Promise<IterationResult & { lesson?: TextLesson }> {
    const h = this.#h;
    const rngState = this.#rng.snapshot();
    const t0 = performance.now();
    let rollout, scores;
    let t1 = t0;
    await prepareTask(this.task); // its fields' packages (once)
    try {
      // 1. Sample: draw prompts (G consecutive completions share one for the group-based algorithms) and roll out,
      //    with each completion's log-probability under the policy and the reference.
      const G = this.#groupSize(h);
      const prompts = Array.from({ length: h.batchSize / G }, () => this.task.prompts[this.#rng.int(this.task.prompts.length)]).flatMap((p) => Array<string>(G).fill(p));
      rollout = await collectRollout(this.policy, this.reference, this.tokenizer, prompts, h, this.#rng, (text, tokens, prompt, index) => taskSample(this.task, text, tokens, prompt, index));
      t1 = performance.now();
      // 2. Score: the reward components, in the sandbox (or the trusted runner).
      scores = await this.#reward.score(rollout.samples, { iteration: this.#iteration + 1, task: this.task.id, helpers: allHelpers() });
    } catch (e) {
      // Nothing has changed but the random stream: rewind it so a retry samples the same batch.
      this.#rng.restore(rngState);
      throw e;
    }
    const t2 = performance.now();

    // 3-4. Advantages and update: the algorithm in force (algorithms/ppo.ts, grpo.ts, rloo.ts) goes on with the same numbers.
    const { N, lengths } = rollout;
    const kl = klPerSequence(rollout.logprobs, rollout.refLogprobs, lengths, N);
    const trainedScore = this.#shapeScores(scores.total, h);
    const record = options.lesson ? lessonRecorder(rollout) : undefined;
    const { policyLoss, clipFrac, approxKl, beta, advantages, ...reported } = await ALGORITHM_STEPS[this.algorithm].step({
      policy: this.policy,
      optimizer: this.#optimizer,
      rollout,
      scores: trainedScore,
      h,
      rng: this.#rng,
      beta: this.#kl.value,
      kl,
      first: this.#iteration === 0,
      record,
    });
    const t3 = performance.now();
    // The lesson's own work (one more forward pass) after the clock: the iteration's timings stay the iteration's.
    const lesson = record
      ? await assembleLesson({ algorithm: this.algorithm, iteration: this.#iteration + 1, policy: this.policy, tokenizer: this.tokenizer, rollout, scores, trainedScore, h, beta, record })
      : undefined;

    // 5. Report: the metrics and alarms, and adapt PPO's beta.
    const mask = actionMask(lengths, N);
    const meanKl = kl.reduce((a, b) => a + b, 0) / kl.length;
    this.#kl.update(meanKl, h.batchSize);
    this.#iteration++;

    const r = meanStd(scores.total);
    const tokens = lengths.reduce((a, b) => a + b, 0);
    let entropySum = 0;
    for (let i = 0; i < mask.length; i++) entropySum += mask[i] * rollout.entropy[i];
    const refLogprob = Array.from(lengths, (n, b) => {
      let sum = 0;
      for (let t = 0; t < n; t++) sum += rollout.refLogprobs[b * N + t];
      return n ? sum / n : 0;
    });
    const profile = batchProfile(tokens / lengths.length, entropySum / tokens, rollout.samples.map((s) => s.text), scores.total, refLogprob, rollout.samples.map((s) => s.prompt));
    this.#firstProfile ??= profile;
    const klTarget = h.adaptiveKl && ALGORITHMS[this.algorithm].adaptiveKl ? h.klTarget : null;
    const runaway = runawaySigns(this.#runaway, { kl: meanKl, entropy: entropySum / tokens, valueLoss: reported.valueLoss }, klTarget);
    this.#runaway = runaway.history;
    const metrics: IterationMetrics = {
      iteration: this.#iteration,
      rewardMean: r.mean,
      rewardStd: r.std,
      rewardMin: r.min,
      rewardMax: r.max,
      rewardComponents: Object.fromEntries(scores.components.map((c) => [c.name, meanStd(c.values).mean])),
      kl: meanKl,
      entropy: entropySum / tokens,
      policyLoss,
      clipFrac,
      approxKl,
      ...reported, // the metrics only some algorithms have
      klCoef: beta,
      klTarget,
      sampleLength: tokens / lengths.length,
      rolloutMs: t1 - t0,
      scoringMs: rollout.scoringMs,
      rewardMs: t2 - t1,
      updateMs: t3 - t2,
      totalMs: t3 - t0,
      tokensPerSecond: tokens / ((t3 - t0) / 1000),
      distinctShare: profile.distinctShare,
      alarms: [...collapseSigns(profile, this.#firstProfile), ...runaway.signs].map((c) => c.message),
      runaway: runaway.signs.length > 0,
    };
    const samples = rollout.samples.map((s, i) => ({
      ...s,
      reward: scores.total[i],
      refLogprob: refLogprob[i],
      components: Object.fromEntries(scores.components.map((c) => [c.name, c.values[i]])),
      advantage: advantages[i],
    }));
    return { metrics, samples, ...(lesson ? { lesson } : {}) };
  }

  /** Completions of the current policy (or the reference) for display, from a separate random stream. */
  async preview(count: number, which: 'policy' | 'reference' = 'policy', seed = 1): Promise<{ prompt: string; text: string }[]> {
    const rng = new Rng(seed);
    const prompts = Array.from({ length: count }, () => this.task.prompts[rng.int(this.task.prompts.length)]);
    const gen = await sample(which === 'policy' ? this.policy : this.reference, {
      prompts: prompts.map((p) => this.tokenizer.encode(p)),
      maxNew: this.#h.maxLength,
      temperature: this.#h.temperature,
      topK: this.#h.topK,
      rng,
    });
    return prompts.map((prompt, b) => ({ prompt, text: this.tokenizer.decode(completion(gen, b)) }));
  }

  /**
   * Probe prompts (probes.ts): each completed greedily and at temperature 1 from
   * its own fixed stream, and scored under the reward in force. Reads the policy
   * only: the run's random stream and state are untouched.
   */
  async probe(prompts: readonly string[], runSeed: number): Promise<ProbeRow[]> {
    const h = this.#h;
    const encoded = prompts.map((p) => this.tokenizer.encode(p));
    const opts = { maxNew: h.maxLength, topK: h.topK };
    // Greedy draws nothing from its stream: one batch. At temperature 1 each probe has its own stream, so one call each.
    const greedy = await sample(this.policy, { ...opts, prompts: encoded, temperature: 0, rng: new Rng(runSeed) });
    const sampled = [];
    for (let i = 0; i < prompts.length; i++) sampled.push(await sample(this.policy, { ...opts, prompts: [encoded[i]], temperature: 1, rng: new Rng(probeSeed(runSeed, i)) }));
    const made: Sample[] = [];
    for (let i = 0; i < prompts.length; i++) {
      for (const tokens of [completion(greedy, i), completion(sampled[i], 0)]) made.push(taskSample(this.task, this.tokenizer.decode(tokens), tokens, prompts[i], made.length));
    }
    const scores = await this.#reward.score(made, { iteration: this.#iteration, task: this.task.id, helpers: allHelpers() });
    const scored = (k: number) => ({ text: made[k].text, reward: scores.total[k], components: Object.fromEntries(scores.components.map((c) => [c.name, c.values[k]])) });
    return prompts.map((prompt, i) => ({ prompt, greedy: scored(2 * i), sampled: scored(2 * i + 1) }));
  }

  dispose(): void {
    this.#optimizer.dispose();
    this.policy.dispose();
    this.reference.dispose();
  }
}
