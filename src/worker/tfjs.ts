// What tfjs-core needs registered before anything trains in the worker: the
// gradients of its ops and the chained ops (x.add(y)). Imported first by the
// worker's entry; the backends come later, one chunk each (backendChoice.ts).
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
