// A person's corpus, off the page's main thread: the file read and checked
// (a few MB of lines takes a few hundred ms), then the reference policy
// pretrained on it with its own tfjs, so the run in the trainer worker is left
// as it was. The corpus and its checkpoint are stored together at the end.
import './tfjs.ts';
import * as Comlink from 'comlink';
import type { CorpusApi, CorpusRead } from './corpusApi.ts';
import { CorpusError, readCorpus, type CorpusStats } from '../core/tasks/corpus.ts';
import { pretrainCorpus, PretrainingStopped } from '../core/training/corpusPretraining.ts';
import { BACKENDS, type BackendName } from '../core/backend/names.ts';
import { switchBackend } from './backendChoice.ts';
import { putCorpus } from '../storage/corpusStore.ts';

/** Corpora read and not yet pretrained, by hash. */
const read = new Map<string, { text: string; stats: CorpusStats }>();
let stopping = false;

const api: CorpusApi = {
  async read(file: Blob, name: string): Promise<CorpusRead> {
    try {
      const corpus = readCorpus(name, new Uint8Array(await file.arrayBuffer()));
      read.set(corpus.stats.hash, corpus);
      return { ok: true, stats: corpus.stats };
    } catch (e) {
      return { ok: false, message: e instanceof CorpusError ? e.message : `${JSON.stringify(name)} could not be read (${(e as Error).message})` };
    }
  },

  async pretrain(hash, backend, onProgress, steps) {
    const corpus = read.get(hash);
    if (!corpus) return { ok: false, message: 'that corpus was not read here: drop the file again', stopped: false };
    stopping = false;
    try {
      await switchBackend(BACKENDS.includes(backend as BackendName) ? (backend as BackendName) : 'wasm');
      const { policy, manifest, weights } = await pretrainCorpus(corpus.text, corpus.stats, { steps, onProgress, stopped: () => stopping });
      policy.dispose();
      await putCorpus({ hash, stats: corpus.stats, text: corpus.text, addedAt: Date.now(), checkpoint: { manifest, weights } });
      read.delete(hash);
      return { ok: true, value: { validationLoss: manifest.validationLoss, bigramLoss: manifest.bigramValidationLoss, seconds: manifest.training.seconds, steps: manifest.training.steps } };
    } catch (e) {
      return { ok: false, message: (e as Error).message, stopped: e instanceof PretrainingStopped };
    }
  },

  stop() {
    stopping = true;
  },
};

Comlink.expose(api);
