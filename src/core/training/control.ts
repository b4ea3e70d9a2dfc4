import * as tf from '../tf.ts';
import { adam } from '../ops/adam.ts';
import { HyperparameterError, validateHyperparameters, type Hyperparameters } from '../hyperparameters.ts';
import { startingHyperparameters } from '../algorithms/catalog.ts';
import { clippedStep, recordStep, stepNumbers } from '../algorithms/minibatch.ts';
import { updateRecorder, type ControlLesson, type UpdateRecorder } from '../algorithms/lesson.ts';
import { controlLogprobsAfter } from './lessonCapture.ts';
import { clippedSurrogate, clippedValueLoss, computeLaneGae } from '../algorithms/ppo.ts';
import { transitionSample, type Environment, type Transition } from '../tasks/environments.ts';
import { meanStd, type IterationMetrics } from './metrics.ts';
import { ActorCritic, actorLogProbs, criticValue } from '../policy/actorCritic.ts';
import { allHelpers, type RewardModel, type Sample } from '../reward/reward.ts';
import { Rng } from '../rng.ts';
import type { Task } from '../tasks/index.ts';
import { assignWeights, readLearning, restoreOptimizer, type Episode, type IterationResult, type ScoredSample, type TrainerState } from './runState.ts';

/**
 * PPO for a control task, as cleanrl's ppo.py (Huang et al. 2022, "The 37
 * implementation details of PPO"): E environments run side by side for T steps
 * each, the person's reward scores every transition in one sandbox batch, GAE
 * turns rewards and values into advantages, and epochs of shuffled minibatches
 * apply the clipped surrogate, a clipped value loss and an entropy bonus.
 *
 * The policy is cleanrl's actor and critic (policy/actorCritic.ts): rollouts
 * run the actor in plain JavaScript, the update in tfjs. There is no reference
 * policy and no KL penalty: the policy starts from random weights.
 */

/** What one environment carries from iteration to iteration: its state and its episode so far. */
interface Lane {
  state: number[];
  t: number;
  return: number;
  states: number[][];
  actions: number[];
}

export interface ControlTrainerOptions {
  task: Task;
  hyperparameters: Partial<Hyperparameters>;
  seed: number;
  reward: RewardModel;
}

/**
 * A run of a control task: the same surface as the language Trainer (step,
 * reset, state export and import, settings, reward swaps), so the worker, the
 * CLI and saved runs treat both alike. A step that fails before the update
 * (a bad reward) leaves everything as it was, environments included.
 */
export class ControlTrainer {
  readonly task: Task;
  readonly env: Environment;
  readonly algorithm = 'ppo' as const;
  policy!: ActorCritic;
  #h: Hyperparameters;
  #seed: number;
  #reward: RewardModel;
  #rng!: Rng;
  #optimizer!: tf.Optimizer;
  #iteration = 0;
  #lanes: Lane[] = [];

  constructor(opts: ControlTrainerOptions) {
    if (!opts.task.environment) throw new Error(`task ${opts.task.id} is not a control task`);
    this.task = opts.task;
    this.env = opts.task.environment;
    this.#h = this.#fit(startingHyperparameters('ppo', opts.task.hyperparameters, opts.hyperparameters));
    this.#seed = opts.seed;
    this.#reward = opts.reward;
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

  /** Fresh random weights from the seed, a fresh optimizer, fresh environments: iteration 0. */
  reset(seed = this.#seed): void {
    this.#seed = seed;
    this.#rng = new Rng(seed);
    this.policy?.dispose();
    this.policy = new ActorCritic(this.env.observation.length, this.env.actions.length, this.#rng);
    this.#newOptimizer();
    this.#iteration = 0;
    this.#lanes = Array.from({ length: this.#h.environments }, () => this.#newLane());
  }

  #newLane(): Lane {
    const state = this.env.reset(this.#rng);
    return { state, t: 0, return: 0, states: [state], actions: [] };
  }

  #fit(h: Hyperparameters): Hyperparameters {
    if (h.batchSize % h.environments !== 0) throw new HyperparameterError('environments', `environments (${h.environments}) must divide batchSize (${h.batchSize})`);
    if (h.batchSize % h.minibatches !== 0) throw new HyperparameterError('minibatches', `minibatches (${h.minibatches}) must divide batchSize (${h.batchSize})`);
    return h;
  }

  #newOptimizer(): void {
    this.#optimizer?.dispose();
    this.#optimizer = adam(this.#h.learningRate, 0.9, 0.999, 1e-5);
  }

  setReward(reward: RewardModel): void {
    this.#reward = reward;
  }

  /** Changes settings mid-run; a new number of environments starts fresh episodes. */
  setHyperparameters(h: Partial<Hyperparameters>): void {
    const next = this.#fit(validateHyperparameters({ ...this.#h, ...h }));
    const lanes = next.environments !== this.#h.environments;
    this.#h = next;
    (this.#optimizer as unknown as { learningRate: number }).learningRate = next.learningRate;
    if (lanes) this.#lanes = Array.from({ length: next.environments }, () => this.#newLane());
  }

  /** One iteration; with `lesson`, its intermediate numbers too (lesson.ts). */
  async step(options: { lesson?: boolean } = {}): Promise<IterationResult & { lesson?: ControlLesson }> {
    const h = this.#h;
    const E = h.environments;
    const T = h.batchSize / E;
    const O = this.env.observation.length;
    const A = this.env.actions.length;
    const rngState = this.#rng.snapshot();
    const lanesBefore = this.#lanes.map((l) => ({ ...l, states: [...l.states], actions: [...l.actions] }));
    const t0 = performance.now();

    // 1. Rollout: T steps in each of E environments, the actor in JavaScript. Index i = t * E + e, as cleanrl's [T, E].
    const weights = await this.policy.snapshot();
    const N = T * E;
    const obs = new Float32Array(N * O);
    const actions = new Int32Array(N);
    const logprobs = new Float32Array(N);
    const values = new Float32Array(N);
    const dones = new Float32Array(N); // 1 when the step ended its episode
    const transitions: (Sample & { transition: Transition })[] = [];
    const lanes = this.#lanes;
    /** The lanes whose episode ended at a rollout index, until the episode is reported. */
    const ended = new Map<number, { lane: Lane; terminated: boolean }>();
    let entropySum = 0;
    for (let t = 0; t < T; t++) {
      for (let e = 0; e < E; e++) {
        const i = t * E + e;
        const lane = lanes[e];
        obs.set(lane.state, i * O);
        const logp = actorLogProbs(weights, lane.state);
        values[i] = criticValue(weights, lane.state);
        let u = this.#rng.next();
        let a = 0;
        while (a < A - 1 && (u -= Math.exp(logp[a])) > 0) a++;
        for (let k = 0; k < A; k++) entropySum -= Math.exp(logp[k]) * logp[k];
        actions[i] = a;
        logprobs[i] = logp[a];
        const { state: next, terminated } = this.env.step(lane.state, a);
        const done = terminated || lane.t + 1 >= this.env.maxSteps;
        dones[i] = done ? 1 : 0;
        transitions.push(transitionSample(this.task.alphabet, { state: lane.state, action: a, nextState: next, done, terminated, t: lane.t }, i));
        lane.t++;
        lane.actions.push(a);
        lane.states.push(next);
        lane.state = next;
        if (done) {
          ended.set(i, { lane, terminated });
          lanes[e] = this.#newLane();
        }
      }
    }
    const t1 = performance.now();

    // 2. Score every transition in one batch.
    let scores;
    try {
      scores = await this.#reward.score(transitions, { iteration: this.#iteration + 1, task: this.task.id, helpers: allHelpers() });
    } catch (e) {
      this.#rng.restore(rngState);
      this.#lanes = lanesBefore;
      throw e;
    }
    const t2 = performance.now();
    const rewards = Float32Array.from(scores.total);

    // Episodes: returns summed along each lane, finished ones reported.
    const episodes: Episode[] = [];
    const running = lanesBefore.map((l) => l.return);
    for (let t = 0; t < T; t++) {
      for (let e = 0; e < E; e++) {
        const i = t * E + e;
        running[e] += rewards[i];
        if (dones[i]) {
          const { lane, terminated } = ended.get(i)!;
          episodes.push({ length: lane.t, return: running[e], terminated, states: lane.states, actions: lane.actions });
          running[e] = 0;
        }
      }
    }
    lanes.forEach((l, e) => (l.return = running[e]));

    // 3. GAE over [T, E], bootstrapped from the value of each lane's current state.
    const lastValues = lanes.map((l) => criticValue(weights, l.state));
    const { advantages, returns } = computeLaneGae(rewards, values, dones, lastValues, T, E, h.gamma, h.gaeLambda);

    // 4. The update: epochs of shuffled minibatches.
    const record = options.lesson ? { ...updateRecorder(N, 1), lastAdvantages: new Float32Array(N) } : undefined;
    const u = await this.#update({ obs, actions, logprobs, values, advantages, returns }, record);
    const t3 = performance.now();
    const lesson: ControlLesson | undefined = record && {
      kind: 'control', algorithm: 'ppo', iteration: this.#iteration + 1, T, E, observationNames: [...this.env.observation], actionNames: [...this.env.actions],
      observations: obs, actions, logprobs, dones, components: scores.components.map((c) => ({ name: c.name, values: [...c.values] })), rewards, values, lastValues, advantages, returns,
      settings: { gamma: h.gamma, lambda: h.gaeLambda, whiten: h.whitenAdvantages, clipRange: h.clipRange, maxGradNorm: h.maxGradNorm, epochs: h.epochs, minibatches: h.minibatches },
      steps: record.steps, lastLogprobs: record.lastLogprobs, lastAdvantages: record.lastAdvantages, after: await controlLogprobsAfter(this.policy, obs, actions, O),
    };
    this.#iteration++;

    // 5. Report.
    const variance = (xs: ArrayLike<number>) => {
      const { std } = meanStd(Array.from(xs));
      return std * std;
    };
    const residual = Float32Array.from(returns, (r, i) => r - values[i]);
    const varReturns = variance(returns);
    const lengths = episodes.map((ep) => ep.length);
    const episodeReturns = episodes.map((ep) => ep.return);
    const r = episodes.length ? meanStd(episodeReturns) : { mean: NaN, std: NaN, min: NaN, max: NaN };
    const metrics: IterationMetrics = {
      iteration: this.#iteration,
      rewardMean: r.mean,
      rewardStd: r.std,
      rewardMin: r.min,
      rewardMax: r.max,
      rewardComponents: Object.fromEntries(scores.components.map((c) => [c.name, meanStd(c.values).mean])),
      kl: 0,
      entropy: entropySum / N,
      policyLoss: u.policyLoss,
      valueLoss: u.valueLoss,
      clipFrac: u.clipFrac,
      approxKl: u.approxKl,
      valueClipFrac: u.valueClipFrac,
      explainedVariance: varReturns === 0 ? NaN : 1 - variance(residual) / varReturns,
      klCoef: 0,
      klTarget: null,
      sampleLength: episodes.length ? lengths.reduce((a, b) => a + b, 0) / episodes.length : NaN,
      episodes: episodes.length,
      rolloutMs: t1 - t0,
      rewardMs: t2 - t1,
      updateMs: t3 - t2,
      totalMs: t3 - t0,
      tokensPerSecond: N / ((t3 - t0) / 1000),
      distinctShare: 1,
      alarms: [],
    };
    // The samples: the iteration's episodes, longest first; the longest keeps its states for the animation.
    episodes.sort((a, b) => b.length - a.length);
    const samples: ScoredSample[] = episodes.slice(0, 16).map((ep, k) => ({
      text: `${ep.length} steps, ${ep.terminated ? 'fell' : 'held to the end'}`,
      tokens: [],
      prompt: '',
      index: k,
      reward: ep.return,
      refLogprob: 0,
      components: {},
      episode: k === 0 ? ep : { length: ep.length, return: ep.return, terminated: ep.terminated },
    }));
    return { metrics, samples, ...(lesson ? { lesson } : {}) };
  }

  /** PPO's update on a rollout: epochs of shuffled minibatches, each one clipped step; the mean of each loss over them. */
  async #update(r: { obs: Float32Array; actions: Int32Array; logprobs: Float32Array; values: Float32Array; advantages: Float32Array; returns: Float32Array }, record?: UpdateRecorder & { lastAdvantages: Float32Array }) {
    const h = this.#h;
    const { obs, actions, logprobs, values, advantages, returns } = r;
    const N = actions.length;
    const O = this.env.observation.length;
    const A = this.env.actions.length;
    const mbSize = N / h.minibatches;
    const obsT = tf.tensor2d(obs, [N, O]);
    let policyLoss = 0, valueLoss = 0, clipFrac = 0, approxKl = 0, entropy = 0, valueClipFrac = 0, updates = 0;
    const vars = [...this.policy.weights.values()];
    let stop = false;
    for (let epoch = 0; epoch < h.epochs && !stop; epoch++) {
      const order = this.#rng.permutation(N);
      let epochKl = 0;
      for (let m = 0; m < h.minibatches; m++) {
        const rows = order.slice(m * mbSize, (m + 1) * mbSize);
        const pick = (src: Float32Array) => Float32Array.from(rows, (r) => src[r]);
        let adv = pick(advantages);
        if (h.whitenAdvantages) {
          const { mean, std } = meanStd(Array.from(adv));
          adv = adv.map((a) => (a - mean) / (std * Math.sqrt(mbSize / Math.max(mbSize - 1, 1)) + 1e-8));
        }
        if (record) rows.forEach((row, k) => (record.lastAdvantages[row] = adv[k]));
        let recorded: tf.Tensor[] = [];
        const stats = tf.tidy(() => {
          const idx = tf.tensor1d(Int32Array.from(rows), 'int32');
          const mbObs = tf.gather(obsT, idx) as tf.Tensor2D;
          const mbActions = tf.oneHot(tf.tensor1d(Int32Array.from(rows, (r) => actions[r]), 'int32'), A);
          const oldLogp = tf.tensor1d(pick(logprobs));
          const oldValues = tf.tensor1d(pick(values));
          const ret = tf.tensor1d(pick(returns));
          const advT = tf.tensor1d(adv);
          let out: tf.Tensor[] = [];
          const { value: loss, grads } = tf.variableGrads(() => {
            const { logits, values: v } = this.policy.forward(mbObs);
            const logp = tf.logSoftmax(logits);
            const newLogp = tf.sum(tf.mul(logp, mbActions), 1);
            const ent = tf.mean(tf.neg(tf.sum(tf.mul(tf.exp(logp), logp), 1)));
            // PPO's own losses (algorithms/ppo.ts), over a flat batch: no mask.
            const { pg_loss: pg, approx_kl, clipfrac } = clippedSurrogate(newLogp, oldLogp, advT, null, h.clipRange);
            const vLoss = clippedValueLoss(v, oldValues, ret, null, h.valueClipRange);
            out.push(h.valueClipRange > 0 ? tf.mean(tf.cast(tf.greater(tf.abs(tf.sub(v, oldValues)), h.valueClipRange), 'float32')) : tf.scalar(0));
            out.push(pg, vLoss, ent, clipfrac, approx_kl);
            out = out.map((x) => tf.keep(x));
            if (record) recorded = [tf.keep(newLogp.expandDims(1))];
            return tf.add(tf.sub(pg, tf.mul(h.entropyCoef, ent)), tf.mul(h.valueCoef, vLoss)) as tf.Scalar;
          }, vars);
          const norm = clippedStep(this.#optimizer, vars, grads, h.maxGradNorm);
          if (record) recorded.unshift(tf.keep(stepNumbers(loss, norm)));
          loss.dispose();
          const stacked = tf.stack(out);
          tf.dispose(out); // kept past variableGrads' own scope; this tidy does not own them
          return stacked;
        });
        const [vcf, pg, vl, ent, cf, kl] = (await stats.data()) as Float32Array;
        stats.dispose();
        if (record) await recordStep(record, recorded, epoch, m, rows, { pg_loss: pg, v_loss: vl, entropy: ent });
        policyLoss += pg;
        valueLoss += vl;
        entropy += ent;
        clipFrac += cf;
        approxKl += kl;
        valueClipFrac += vcf;
        epochKl += kl / h.minibatches;
        updates++;
      }
      if (h.targetKl > 0 && epochKl > h.targetKl) stop = true;
    }
    obsT.dispose();
    return { policyLoss: policyLoss / updates, valueLoss: valueLoss / updates, clipFrac: clipFrac / updates, approxKl: approxKl / updates, entropy: entropy / updates, valueClipFrac: valueClipFrac / updates };
  }

  async exportState(): Promise<TrainerState> {
    const learnt = await readLearning(this.policy, this.#optimizer);
    return {
      iteration: this.#iteration,
      seed: this.#seed,
      rng: this.#rng.snapshot(),
      klCoef: 0,
      scoreStats: { count: 0, mean: 0, m2: 0 },
      firstProfile: null,
      hyperparameters: { ...this.#h },
      ...learnt,
      lanes: this.#lanes.map((l) => ({ state: [...l.state], t: l.t, return: l.return })),
    };
  }

  /** Continues from an exported state; weights that do not fit are refused before any is set. */
  async importState(state: TrainerState): Promise<void> {
    assignWeights(this.policy, state.weights);
    this.#h = this.#fit(validateHyperparameters(state.hyperparameters));
    this.#newOptimizer();
    await restoreOptimizer(this.#optimizer, state.optimizer);
    this.#seed = state.seed;
    this.#rng = new Rng(state.seed);
    this.#rng.restore(state.rng);
    this.#iteration = state.iteration;
    const saved = state.lanes ?? [];
    this.#lanes = Array.from({ length: this.#h.environments }, (_, e) => {
      const l = saved[e];
      return l ? { state: [...l.state], t: l.t, return: l.return, states: [[...l.state]], actions: [] } : this.#newLane();
    });
  }

  /** Nothing to preview: a control policy writes no text, and there is no reference. */
  async preview(_count?: number, _which?: 'policy' | 'reference', _seed?: number): Promise<{ prompt: string; text: string }[]> {
    return [];
  }

  dispose(): void {
    this.#optimizer.dispose();
    this.policy.dispose();
  }
}
