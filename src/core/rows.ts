import * as tf from './tf.ts';
import { ROW_MOVE } from './kernels/wasmKernels.ts';

/**
 * Moves rows between two layouts, x [inRows, ...] -> [index.length, ...]: out
 * row i is x's row index[i], or zeros where index[i] is inRows. Each of x's rows
 * may go to one place at most, so the gradient is the same move backwards (dy's
 * row inverse[j] into row j, or zeros where inverse[j] is index.length). Both
 * directions are one gather, a kernel every backend runs: a gather's own
 * gradient (UnsortedSegmentSum) is missing on wasm, and a product with a 0/1
 * placement matrix costs rows x rows x width.
 */
export function rowMover(index: Int32Array, inRows: number): (x: tf.Tensor) => tf.Tensor {
  const outRows = index.length;
  const inverse = new Int32Array(inRows).fill(outRows);
  index.forEach((j, i) => {
    if (j === inRows) return;
    if (j < 0 || j > inRows || inverse[j] !== outRows) throw new Error(`rowMover: row ${j} is out of range or taken twice`);
    inverse[j] = i;
  });
  const forward = tf.tensor1d(index, 'int32');
  const backward = tf.tensor1d(inverse, 'int32');
  const move = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
    save([backward]); // kept for the backward pass, which runs after this scope's tensors are gone
    return { value: withZeroRow(x, forward), gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => withZeroRow(dy, saved[0] as tf.Tensor1D) };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return (x) => move(x) as tf.Tensor;
}

/** x's rows at `index`, where the index one past x's last row reads zeros: one kernel on wasm. */
function withZeroRow(x: tf.Tensor, index: tf.Tensor1D): tf.Tensor {
  if (tf.getBackend() === 'wasm' && tf.getKernel(ROW_MOVE, 'wasm')) return tf.engine().runKernel(ROW_MOVE, { x, indices: index }) as tf.Tensor;
  return tf.gather(tf.concat([x, tf.zeros([1, ...x.shape.slice(1)])]), index);
}
