import * as Comlink from 'comlink';
import { decodeExperiment, hasExperiment, LinkError } from '../../core/experiment/link.ts';
import type { CorpusRef } from '../../core/experiment/experiment.ts';
import { corpusTask, type CorpusStats } from '../../core/tasks/corpus.ts';
import { registerTask, unregisterTask, type Task } from '../../core/tasks/index.ts';
import type { CorpusProgress } from '../../core/training/corpusPretraining.ts';
import { deleteCorpus, getCorpus, listCorpora } from '../../storage/corpusStore.ts';
import type { CorpusApi } from '../../worker/corpusApi.ts';
import type { Session } from './session.svelte.ts';

/** A person's corpora on the page: those stored (offered as tasks), the one being read or pretrained, and a link's wish for one. */
export class Corpora {
  /** The stored corpora's tasks, in the order they were added: the task picker lists them after the shipped ones. */
  tasks = $state.raw<Task[]>([]);
  /** A file read and checked, waiting for Pretrain. */
  draft = $state.raw<CorpusStats | null>(null);
  /** Pretraining as it goes; its losses over the steps for the chart. */
  progress = $state.raw<CorpusProgress | null>(null);
  curve = $state.raw<{ step: number; train: number; validation: number | null }[]>([]);
  /** Why a file was refused, or pretraining failed. */
  problem = $state<string | null>(null);
  /** A link on a corpus this browser does not have: which, and the link to open once it is here. */
  needed = $state.raw<{ ref: CorpusRef; link: string } | null>(null);
  #asking = false;
  #worker: Worker | null = null;
  #api: Comlink.Remote<CorpusApi> | null = null;
  /** The file of the draft: read again into a fresh worker when pretraining is tried again. */
  #file: File | null = null;
  /** Rejects the call in flight when the corpus worker dies (out of memory), so nothing waits forever. */
  #died: Promise<never> | null = null;

  /** `ask` confirms switching away from a run (the page's dialog). */
  constructor(
    private readonly session: Session,
    private readonly ask: (q: { title: string; body: string; confirm: string }) => Promise<boolean>,
  ) {}

  /** Offers every stored corpus as a task, and notes a link that asks for one that is not here. Storage that is unavailable costs only the corpora. */
  async load(hash: string): Promise<void> {
    try {
      for (const c of await listCorpora()) if (c.checkpoint) this.#offer(c.stats);
    } catch {
      // No storage (private mode): no corpora to offer; a link that needs one says so below.
    }
    if (!hasExperiment(hash)) return;
    try {
      await decodeExperiment(hash);
    } catch (e) {
      if (e instanceof LinkError && e.corpus) this.needed = { ref: e.corpus, link: hash };
    }
  }

  #offer(stats: CorpusStats): Task {
    const task = corpusTask(stats);
    registerTask(task);
    this.tasks = [...this.tasks.filter((t) => t.id !== task.id), task];
    return task;
  }

  #corpusApi(): Comlink.Remote<CorpusApi> {
    if (!this.#api) {
      const worker = new Worker(new URL('../../worker/corpus.worker.ts', import.meta.url), { type: 'module', name: 'corpus' });
      this.#died = new Promise<never>((_, reject) => worker.addEventListener('error', (e) => reject(new Error(`the corpus worker stopped (${e.message || 'out of memory?'})`))));
      this.#died.catch(() => undefined);
      this.#worker = worker;
      this.#api = Comlink.wrap<CorpusApi>(worker);
    }
    return this.#api;
  }

  /** Reads a dropped or chosen file as a corpus: its summary, or what was wrong with it. The run on screen is not touched. */
  async read(file: File): Promise<void> {
    if (this.progress) {
      this.problem = `${file.name} was not read: a corpus is being pretrained; stop it first`;
      return;
    }
    this.problem = null;
    this.draft = null;
    const r = await this.#corpusApi().read(file, file.name);
    this.#file = file;
    if (!r.ok) {
      this.problem = r.message;
      return;
    }
    const wanted = this.needed?.ref;
    if (wanted && r.stats.hash !== wanted.hash) {
      this.problem = `${file.name} is not the corpus the link was made on: its lines differ from those of "${wanted.name}" (${wanted.lines.toLocaleString('en-US')} lines). Choose that file, or dismiss the link's request to use this one.`;
      return;
    }
    this.draft = r.stats;
  }

  /** Pretrains the draft's policy in the corpus worker (the run on screen is paused, and kept), stores both, and opens the corpus as the task (or the link that asked for it). */
  async pretrain(): Promise<void> {
    const stats = this.draft;
    if (!stats || this.progress || this.#asking) return;
    // The corpus's task replaces the run on screen when it is ready: asked now, while nothing has started.
    if (this.session.iteration > 0 && !this.needed) {
      const n = this.session.iteration;
      const kept = this.session.runs.currentId !== null && this.session.runs.problem === null;
      this.#asking = true;
      const ok = await this.ask({
        title: `Pretrain on ${stats.name} and open it?`,
        body: `The run of ${n} iteration${n === 1 ? '' : 's'} pauses now; when the policy is ready, ${stats.name} opens as the task at iteration 0. ${kept ? 'This run stays in Saved runs, where you can resume it.' : 'This run was not saved, so it is lost then (Export keeps it).'}`,
        confirm: 'Pretrain and open',
      }).finally(() => (this.#asking = false));
      if (!ok) return;
    }
    this.problem = null;
    this.curve = [];
    this.progress = { step: 0, steps: 1, trainLoss: NaN, validationLoss: null, bigramLoss: NaN, seconds: 0, etaSeconds: NaN };
    if (this.session.status === 'training') await this.session.connection.call('Pause', (api) => api.pause());
    const onProgress = (p: CorpusProgress) => {
      this.progress = p;
      this.curve = [...this.curve, { step: p.step, train: p.trainLoss, validation: p.validationLoss }];
    };
    let r;
    try {
      const fresh = !this.#api;
      const api = this.#corpusApi();
      // A fresh worker (after a failed try) has not read the file: it reads it again first.
      if (fresh && this.#file) await api.read(this.#file, this.#file.name);
      r = await Promise.race([api.pretrain(stats.hash, this.session.backend?.name ?? 'wasm', Comlink.proxy(onProgress)), this.#died!]);
    } catch (e) {
      r = { ok: false as const, message: (e as Error).message, stopped: false };
    }
    this.progress = null;
    // The worker's tfjs and its memory go with it; a later corpus starts a fresh one.
    this.#worker?.terminate();
    this.#worker = null;
    this.#api = null;
    if (!r.ok) {
      this.problem = r.stopped ? `Pretraining on ${stats.name} was stopped; nothing was stored.` : `Pretraining on ${stats.name} failed: ${r.message}`;
      if (r.stopped) this.draft = null;
      return;
    }
    this.draft = null;
    const task = this.#offer(stats);
    const said = `Your corpus "${stats.name}": a policy pretrained here in ${r.value.seconds} s (${r.value.steps} steps), validation loss ${r.value.validationLoss.toFixed(3)} nats a character against the bigram's ${r.value.bigramLoss.toFixed(3)}. Nothing trains until you press Train.`;
    const link = this.needed?.link;
    this.needed = null;
    if (link) {
      try {
        const e = await decodeExperiment(link);
        this.session.openProblem = null;
        await this.session.openExperiment(e);
      } catch (e) {
        // The corpus is here now, but the link is wrong in another way: said, and the corpus opens as its own task.
        this.session.openProblem = `The link's corpus is ready, but the link still could not be opened: ${(e as Error).message}`;
        await this.session.setTask(task.id, 'mlp');
      }
    } else await this.session.setTask(task.id, 'mlp');
    this.session.origin = said;
  }

  stop(): void {
    void this.#api?.stop();
  }

  /** Closes the summary (and a link's request): nothing is stored. */
  dismiss(): void {
    this.draft = null;
    this.problem = null;
    this.needed = null;
  }

  /** The stored corpus and its checkpoint, for Export: the manifest and weights in the shipped layout, and the lines. */
  async checkpointFiles(taskId: string): Promise<Record<string, Uint8Array> | null> {
    const c = await getCorpus(taskId.slice('corpus-'.length));
    if (!c?.checkpoint) return null;
    const { manifest, weights } = c.checkpoint;
    const text = new TextEncoder();
    return { [`${manifest.id}.json`]: text.encode(JSON.stringify(manifest, null, 2) + '\n'), [manifest.weightsFile]: weights, [`${manifest.id}.corpus.txt`]: text.encode(c.text + '\n') };
  }

  /** Forgets a stored corpus (its runs stay in Saved runs and ask for the file again); the page moves to the first task when it was on screen. */
  async forget(taskId: string): Promise<void> {
    try {
      await deleteCorpus(taskId.slice('corpus-'.length));
    } catch (e) {
      this.problem = (e as Error).message;
      return;
    }
    unregisterTask(taskId);
    this.tasks = this.tasks.filter((t) => t.id !== taskId);
    if (this.session.experiment.task === taskId) await this.session.setTask('names', 'mlp');
  }
}


/** A dropped file read as a corpus rather than imported: plain text of lines (experiment and run files are JSON, policies binary). */
export function isCorpusFile(file: File): boolean {
  return /\.(txt|csv|tsv|lst)$/i.test(file.name) || file.type === 'text/plain';
}
