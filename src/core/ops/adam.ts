import * as tf from '../tf.ts';
import { ADAM } from './kernels/wasmKernels.ts';

/**
 * tfjs's Adam, whose step on the wasm backend is one kernel of ours per weight
 * (the same float32 operations in the same order) instead of 14 of tfjs's: a
 * transformer's iteration makes about 40% fewer kernel calls. State, saving and
 * restoring (getWeights, setWeights) are tfjs's own; elsewhere it is tfjs's Adam.
 */
export class FusedAdam extends tf.AdamOptimizer {
  /** Whether a step can take its gradients' factor itself (`applyGradients`'s `scale`), with no product per weight first. */
  static scalesGradients(): boolean {
    return tf.getBackend() === 'wasm' && !!tf.getKernel(ADAM, 'wasm');
  }

  /** tfjs's step, on gradients times `scale` (where `scalesGradients`; elsewhere scale them first). */
  override applyGradients(variableGradients: Parameters<tf.AdamOptimizer['applyGradients']>[0], scale = 1): void {
    if (!FusedAdam.scalesGradients() || Array.isArray(variableGradients)) {
      if (scale !== 1) throw new Error('FusedAdam: a gradient scale needs the wasm kernel; scale the gradients first');
      super.applyGradients(variableGradients);
      return;
    }
    // tfjs keeps these protected; the fields are its AdamOptimizer's (4.x).
    const self = this as unknown as {
      accBeta1: tf.Variable;
      accBeta2: tf.Variable;
      accumulatedFirstMoment: { originalName: string; variable: tf.Variable }[];
      accumulatedSecondMoment: { originalName: string; variable: tf.Variable }[];
      incrementIterations(): void;
    };
    tf.tidy(() => {
      const c1 = tf.sub(1, self.accBeta1);
      const c2 = tf.sub(1, self.accBeta2);
      Object.keys(variableGradients).forEach((name, i) => {
        const value = tf.engine().registeredVariables[name];
        self.accumulatedFirstMoment[i] ??= { originalName: `${name}/m`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
        self.accumulatedSecondMoment[i] ??= { originalName: `${name}/v`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
        const gradient = (variableGradients as Record<string, tf.Tensor | undefined>)[name];
        if (gradient == null) return;
        const m = self.accumulatedFirstMoment[i].variable;
        const v = self.accumulatedSecondMoment[i].variable;
        const [w1, m1, v1] = tf.engine().runKernel(ADAM, { w: value, m, v, g: gradient, c1, c2 }, { beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon, learningRate: this.learningRate, scale }) as tf.Tensor[];
        m.assign(m1);
        v.assign(v1);
        value.assign(w1);
      });
      self.accBeta1.assign(tf.mul(self.accBeta1, this.beta1));
      self.accBeta2.assign(tf.mul(self.accBeta2, this.beta2));
    });
    self.incrementIterations();
  }
}

/** Adam with tfjs's arguments (see FusedAdam). */
export function adam(learningRate: number, beta1: number, beta2: number, epsilon: number): tf.Optimizer {
  return new FusedAdam(learningRate, beta1, beta2, epsilon);
}
