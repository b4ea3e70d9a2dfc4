import * as tf from '../tf.ts';
import { ROW_MOVE, SUMMED_ROWS, SUMMED_ROWS_GRAD } from './kernels/wasmKernels.ts';

/**
 * Moves rows between two layouts, x [inRows, ...] -> [index.length, ...]: out
 * row i is x's row index[i], or zeros where index[i] is inRows. Each of x's rows
 * may go to one place at most, so the gradient is the same move backwards (dy's
 * row inverse[j] into row j, or zeros where inverse[j] is index.length). Both
 * directions are one gather (one kernel of ours on wasm, zero rows included),
 * cheaper than a gather's general gradient (a segment sum into zeros) or a
 * product with a 0/1 placement matrix (rows x rows x width).
 */
export function rowMover(index: Int32Array, inRows: number): (x: tf.Tensor) => tf.Tensor {
  const inverse = inverseRows(index, inRows);
  const forward = tf.tensor1d(index, 'int32');
  const backward = tf.tensor1d(inverse, 'int32');
  const move = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
    save([backward]); // kept for the backward pass, which runs after this scope's tensors are gone
    return { value: withZeroRow(x, forward), gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => withZeroRow(dy, saved[0] as tf.Tensor1D) };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return (x) => move(x) as tf.Tensor;
}

/** For each of `inRows` rows, the out row a move by `index` puts it in (index.length where none: a zero row backwards). */
export function inverseRows(index: Int32Array, inRows: number): Int32Array {
  const outRows = index.length;
  const inverse = new Int32Array(inRows).fill(outRows);
  index.forEach((j, i) => {
    if (j === inRows) return;
    if (j < 0 || j > inRows || inverse[j] !== outRows) throw new Error(`rows moved: row ${j} of ${inRows} is out of range or taken twice`);
    inverse[j] = i;
  });
  return inverse;
}

/** x's rows at `index`, where the index one past x's last row reads zeros: one kernel on wasm. */
function withZeroRow(x: tf.Tensor, index: tf.Tensor1D): tf.Tensor {
  if (tf.getBackend() === 'wasm' && tf.getKernel(ROW_MOVE, 'wasm')) return tf.engine().runKernel(ROW_MOVE, { x, indices: index }) as tf.Tensor;
  return tf.gather(tf.concat([x, tf.zeros([1, ...x.shape.slice(1)])]), index);
}

/**
 * table [R, C] and rows [K, N] (int32) -> [N, C]: out[n] = table[rows[0][n]] +
 * ... + table[rows[K-1][n]], with the gradient to the table. On wasm two
 * kernels of ours, never making the [K, N, C] gather; elsewhere a gather and a
 * sum, the same numbers.
 */
export function summedRows(table: tf.Tensor2D, rows: tf.Tensor2D): tf.Tensor2D {
  const [K, N] = rows.shape;
  const [R, C] = table.shape;
  if (!(tf.getBackend() === 'wasm' && tf.getKernel(SUMMED_ROWS, 'wasm'))) return tf.sum(tf.gather(table, rows).reshape([K, N * C]), 0).reshape([N, C]);
  const op = tf.customGrad(((t: tf.Tensor, save: tf.GradSaveFunc) => {
    save([rows]);
    return {
      value: tf.engine().runKernel(SUMMED_ROWS, { table: t, rows }) as tf.Tensor,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.engine().runKernel(SUMMED_ROWS_GRAD, { dy, rows: saved[0] }, { tableRows: R }) as tf.Tensor,
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(table) as tf.Tensor2D;
}
