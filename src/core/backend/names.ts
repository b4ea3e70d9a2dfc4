/** The tfjs backends the playground knows, fastest first where the hardware allows. Free of tfjs so the page can import it. */
export type BackendName = 'webgpu' | 'webgl' | 'wasm' | 'cpu';
export const BACKENDS: readonly BackendName[] = ['webgpu', 'webgl', 'wasm', 'cpu'];
/** The backends that run on a GPU: one may fail mid-run (a lost device), and the run then moves to wasm. */
export const GPU_BACKENDS: readonly BackendName[] = ['webgpu', 'webgl'];
