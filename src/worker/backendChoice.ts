import * as tf from '../core/tf.ts';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { useBackend, type BackendName } from '../core/backend/backend.ts';
import type { BackendReport } from './trainerApi.ts';
import { pickBackend, type Candidate } from '../core/backend/pick.ts';
import { timeDenseStep, timeTrainingStep } from '../core/training/stepTimer.ts';
import { validateExperiment, type Experiment } from '../core/experiment/experiment.ts';
import { getTask, modelId } from '../core/tasks/index.ts';
import { createPolicy } from '../core/policy/create.ts';
import { fetchManifest } from './models.ts';

/**
 * Each backend is its own chunk, fetched the first time it is needed: a page
 * that trains on wasm never downloads WebGPU's or WebGL's kernels.
 */
const LOADERS: Record<BackendName, () => Promise<unknown>> = {
  webgpu: () => import('@tensorflow/tfjs-backend-webgpu'),
  webgl: () => import('@tensorflow/tfjs-backend-webgl'),
  cpu: () => import('@tensorflow/tfjs-backend-cpu'),
  wasm: async () => {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths({ 'tfjs-backend-wasm.wasm': wasmPlain, 'tfjs-backend-wasm-simd.wasm': wasmSimd, 'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded });
    // The threaded build hangs in a minified bundle, and threads gain nothing on models this small.
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  },
};
const loaded = new Map<BackendName, Promise<unknown>>();

/** Loads a backend's code (once) and switches tfjs to it, checking that it took. */
export async function switchBackend(name: BackendName): Promise<void> {
  if (!loaded.has(name)) loaded.set(name, LOADERS[name]());
  try {
    await loaded.get(name);
  } catch (e) {
    loaded.delete(name);
    throw new Error(`backend ${name} could not be loaded: ${(e as Error).message}`);
  }
  await useBackend(name);
}

/**
 * Every backend that may run here is measured on a training step of the
 * policy about to be trained (`step`, run on the backend switched to; a dense
 * forward and backward pass of an update's shape when there is none), and the
 * fastest wins: WebGPU with a hardware adapter, wasm, and a hardware WebGL. A
 * GPU is not assumed faster: for policies this small, its dispatch overhead can
 * lose to wasm. Software adapters are not measured (never faster than wasm);
 * with wasm the only one left, nothing is measured; cpu is last. A requested
 * backend is used as asked, and its failure is an error, never a quiet fallback.
 */
export async function chooseBackend(requested: BackendName | null, step: () => Promise<number> = () => timeDenseStep(), failed: ReadonlySet<BackendName> = new Set()): Promise<BackendReport> {
  if (requested) {
    await switchBackend(requested);
    return { name: requested, reason: `requested with ?backend=${requested}` };
  }
  const candidates: Candidate[] = [{ name: 'webgpu', ...(await probeWebGpu()) }, { name: 'wasm', usable: true, detail: '' }, { name: 'webgl', ...webglRenderer() }].map((c) =>
    failed.has(c.name as BackendName) ? { ...c, usable: false, detail: 'it failed earlier in this page' } : c,
  ) as Candidate[];
  const pick = await pickBackend(candidates, async (name) => {
    await switchBackend(name);
    return step();
  });
  await switchBackend(pick.name);
  return pick;
}

/**
 * The most parameters of any policy the app ships (unittests' MLP): policies up
 * to this size are what the choice at start measures well enough for all of
 * them. A unit test checks it against public/models.
 */
export const LARGEST_SHIPPED_PARAMETERS = 137_591;

/**
 * The backend in force and what it was chosen on. At start it measures the
 * page's policy (chooseBackend); when the run's policy changes to one larger
 * than every shipped policy (a corpus's, say) it measures again on that policy,
 * since the faster backend depends on size: a GPU's dispatch overhead that loses
 * to wasm on small policies can win on large ones (README, Benchmarks). A
 * backend asked for (?backend=) stays; one that failed mid-run (`failed`) is not
 * tried again. `measure` times a training step of an experiment's policy on the
 * current backend; `choose` is chooseBackend (both stand-ins in tests).
 */
export class BackendChoice {
  current: BackendName = 'cpu';
  #requested: BackendName | null = null;
  #measured: string | null = null;
  #failed = new Set<BackendName>();

  constructor(
    private readonly policyOf: (experiment: Experiment) => Promise<{ key: string; parameters: number } | null> = manifestOf,
    private readonly choose: typeof chooseBackend = chooseBackend,
    private readonly measure: (experiment: Experiment) => (() => Promise<number>) | undefined = trainingStepOf,
  ) {}

  async start(requested: BackendName | null, experiment?: Experiment): Promise<BackendReport> {
    this.#requested = requested;
    const report = await this.choose(requested, experiment && this.measure(experiment));
    this.#measured = experiment ? ((await this.policyOf(experiment).catch(() => null))?.key ?? null) : null;
    this.current = report.name;
    return report;
  }

  /** A backend failed mid-run and the run moved to wasm: later choices leave it out. */
  failedOver(name: BackendName): void {
    this.#failed.add(name);
    this.current = 'wasm';
  }

  /** Called as the run's policy changes: a new report when its size asked for a new measurement, else null (nothing changes). */
  async policyChanged(experiment: Experiment): Promise<BackendReport | null> {
    if (this.#requested) return null;
    const policy = await this.policyOf(experiment).catch(() => null);
    if (!policy || policy.key === this.#measured || policy.parameters <= LARGEST_SHIPPED_PARAMETERS) return null;
    this.#measured = policy.key;
    const report = await this.choose(null, this.measure(experiment), this.#failed);
    this.current = report.name;
    return { ...report, reason: `measured again for this policy of ${policy.parameters.toLocaleString('en')} parameters, larger than any shipped: ${report.reason}` };
  }
}

/** The experiment's policy as the choice keys it (its configuration) and its size, from its checkpoint's manifest. */
async function manifestOf(experiment: Experiment): Promise<{ key: string; parameters: number } | null> {
  const model = policyModel(experiment);
  if (!model) return null;
  const manifest = await fetchManifest(model.id);
  return { key: JSON.stringify(manifest.config), parameters: manifest.parameters };
}

async function probeWebGpu(): Promise<{ usable: boolean; detail: string }> {
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<GpuAdapterLike | null> } }).gpu;
  if (!gpu) return { usable: false, detail: 'this browser has no WebGPU' };
  let adapter: GpuAdapterLike | null;
  try {
    adapter = await gpu.requestAdapter();
  } catch (e) {
    return { usable: false, detail: `requestAdapter failed: ${(e as Error).message}` };
  }
  if (!adapter) return { usable: false, detail: 'no WebGPU adapter' };
  const fallback = adapter.info?.isFallbackAdapter ?? adapter.isFallbackAdapter ?? false;
  const name = [adapter.info?.vendor, adapter.info?.architecture, adapter.info?.description].filter(Boolean).join(' ') || 'unknown adapter';
  if (fallback) return { usable: false, detail: `only a software fallback adapter (${name})` };
  return { usable: true, detail: name };
}

interface GpuAdapterLike {
  isFallbackAdapter?: boolean;
  info?: { vendor?: string; architecture?: string; description?: string; isFallbackAdapter?: boolean };
}

/** Software WebGL (SwiftShader, llvmpipe) is never faster than wasm: skip measuring it. */
function webglRenderer(): { usable: boolean; detail: string } {
  try {
    const gl = new OffscreenCanvas(1, 1).getContext('webgl2');
    if (!gl) return { usable: false, detail: 'no WebGL2 context' };
    const ext = gl.getExtension('WEBGL_debug_renderer_info');
    const renderer = String(ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER));
    gl.getExtension('WEBGL_lose_context')?.loseContext();
    if (/swiftshader|llvmpipe|software/i.test(renderer)) return { usable: false, detail: `software renderer (${renderer})` };
    return { usable: true, detail: renderer };
  } catch (e) {
    return { usable: false, detail: (e as Error).message };
  }
}

/**
 * Times a training step of the experiment's policy (its architecture and size,
 * random weights, its minibatch) on whichever backend is current: what the
 * backend is chosen by. Undefined for a control task or an experiment that
 * does not validate (the dense step stands in).
 */
export function trainingStepOf(experiment: Experiment): (() => Promise<number>) | undefined {
  const model = policyModel(experiment);
  if (!model) return undefined;
  const { e } = model;
  return async () => {
    const policy = createPolicy((await fetchManifest(model.id)).config);
    try {
      const h = e.hyperparameters;
      return await timeTrainingStep(policy, Math.max(1, Math.floor(h.batchSize / h.minibatches)), h.maxLength);
    } finally {
      policy.dispose();
    }
  };
}

/** The validated experiment and its policy's model id; null for a control task or an experiment that does not validate. */
function policyModel(experiment: Experiment): { e: Experiment; id: string } | null {
  let e: Experiment;
  try {
    e = validateExperiment(experiment);
  } catch {
    return null;
  }
  const task = getTask(e.task);
  return task.environment ? null : { e, id: modelId(task, e.arch) };
}
