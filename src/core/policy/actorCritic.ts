import * as tf from '../tf.ts';
import { tanh } from '../ops/activations.ts';
import type { Rng } from '../rng.ts';
import { addWeight, normalInit } from './policy.ts';

/**
 * The control tasks' policy, cleanrl's: separate actor and critic MLPs (64-64,
 * tanh) over the observation. In tfjs for the update (`forward`); in plain
 * JavaScript on weights read once per iteration for rollouts (`actorLogProbs`,
 * `criticValue`), where one tiny forward per step is far cheaper than as tensor ops.
 */

const HIDDEN = 64;

/** Actor and critic: obs -> 64 -> 64 -> actions, and obs -> 64 -> 64 -> 1, tanh between. */
export class ActorCritic {
  readonly weights: ReadonlyMap<string, tf.Variable>;
  readonly observationSize: number;
  readonly actionCount: number;

  constructor(observationSize: number, actionCount: number, rng: Rng) {
    this.observationSize = observationSize;
    this.actionCount = actionCount;
    const w = new Map<string, tf.Variable>();
    // Gaussian init scaled by 1/sqrt(fan-in), with cleanrl's gains: sqrt(2) inside, 0.01 for the actor's last layer, 1 for the critic's.
    const layer = (name: string, fanIn: number, fanOut: number, gain: number) => {
      addWeight(w, `${name}.w`, normalInit(rng, [fanIn, fanOut], gain / Math.sqrt(fanIn)));
      addWeight(w, `${name}.b`, tf.zeros([fanOut]));
    };
    for (const net of ['actor', 'critic']) {
      layer(`${net}.0`, observationSize, HIDDEN, Math.SQRT2);
      layer(`${net}.1`, HIDDEN, HIDDEN, Math.SQRT2);
      layer(`${net}.2`, HIDDEN, net === 'actor' ? actionCount : 1, net === 'actor' ? 0.01 : 1);
    }
    this.weights = w;
  }

  #mlp(net: string, obs: tf.Tensor2D): tf.Tensor2D {
    const W = (n: string) => this.weights.get(`${net}.${n}`)!;
    const h1 = tanh(tf.add(tf.matMul(obs, W('0.w')), W('0.b'))) as tf.Tensor2D;
    const h2 = tanh(tf.add(tf.matMul(h1, W('1.w')), W('1.b'))) as tf.Tensor2D;
    return tf.add(tf.matMul(h2, W('2.w')), W('2.b')) as tf.Tensor2D;
  }

  /** obs [B, O] -> action logits [B, A] and values [B]. */
  forward(obs: tf.Tensor2D): { logits: tf.Tensor2D; values: tf.Tensor1D } {
    return { logits: this.#mlp('actor', obs), values: tf.reshape(this.#mlp('critic', obs), [-1]) as tf.Tensor1D };
  }

  /** The weights as plain arrays, for rollouts in JavaScript. */
  async snapshot(): Promise<Map<string, Float32Array>> {
    const out = new Map<string, Float32Array>();
    for (const [name, v] of this.weights) out.set(name, (await v.data()) as Float32Array);
    return out;
  }

  dispose(): void {
    for (const v of this.weights.values()) v.dispose();
  }
}

/** One dense layer in JavaScript: out = x W + b (W is [in, out], row-major). */
function dense(x: Float64Array, W: Float32Array, b: Float32Array, tanh: boolean): Float64Array {
  const n = b.length;
  const out = new Float64Array(n);
  for (let j = 0; j < n; j++) out[j] = b[j];
  for (let i = 0; i < x.length; i++) {
    const xi = x[i];
    if (xi === 0) continue;
    const row = i * n;
    for (let j = 0; j < n; j++) out[j] += xi * W[row + j];
  }
  if (tanh) for (let j = 0; j < n; j++) out[j] = Math.tanh(out[j]);
  return out;
}

function jsMlp(weights: Map<string, Float32Array>, net: string, obs: readonly number[]): Float64Array {
  const g = (n: string) => weights.get(`${net}.${n}`)!;
  const h1 = dense(Float64Array.from(obs), g('0.w'), g('0.b'), true);
  const h2 = dense(h1, g('1.w'), g('1.b'), true);
  return dense(h2, g('2.w'), g('2.b'), false);
}

function logSoftmax(logits: Float64Array): Float64Array {
  let max = -Infinity;
  for (const v of logits) max = Math.max(max, v);
  let sum = 0;
  for (const v of logits) sum += Math.exp(v - max);
  const lse = max + Math.log(sum);
  return logits.map((v) => v - lse);
}

/** The actor's log-probabilities of each action in state `obs`, on weights from `snapshot()`. */
export function actorLogProbs(weights: Map<string, Float32Array>, obs: readonly number[]): Float64Array {
  return logSoftmax(jsMlp(weights, 'actor', obs));
}

/** The critic's value of state `obs`, on weights from `snapshot()`. */
export function criticValue(weights: Map<string, Float32Array>, obs: readonly number[]): number {
  return jsMlp(weights, 'critic', obs)[0];
}
