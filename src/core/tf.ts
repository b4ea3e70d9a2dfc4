// tfjs-core alone: tensors, ops, autodiff, optimizers. Everything imports tfjs
// from here. What must be registered besides (the gradients, chained ops like
// x.add(y), a backend) is loaded where the code runs: the page's worker by
// src/worker/tfjs.ts and the backend it picks (src/worker/backendChoice.ts),
// Node by scripts/nodeBackend.ts. No backend's kernels ride along with core.
export * from '@tensorflow/tfjs-core';
