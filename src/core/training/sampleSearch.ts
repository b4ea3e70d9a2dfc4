import type { KeptBatch, KeptSample } from './sampleHistory.ts';

// Looking through a run's kept samples: one filter (text contains, the total
// or a component above or below a bound) over every kept iteration, and the
// JSON lines a researcher takes elsewhere (one sample a line).

export interface SampleQuery {
  /** Text the completion (or its prompt) contains; case-insensitive; '' matches all. */
  text: string;
  /** A component's name, or null for the weighted total. */
  field: string | null;
  /** Keep samples with `field` at least `min` / at most `max` (null: no bound). */
  min: number | null;
  max: number | null;
}

export interface Found {
  iteration: number;
  sample: KeptSample;
}

export const ANY: SampleQuery = { text: '', field: null, min: null, max: null };

export function matches(s: KeptSample, q: SampleQuery): boolean {
  if (q.text && !`${s.prompt}${s.text}`.toLowerCase().includes(q.text.toLowerCase())) return false;
  const v = q.field === null ? s.reward : s.components[q.field];
  if (q.min !== null && !(v >= q.min)) return false;
  if (q.max !== null && !(v <= q.max)) return false;
  return true;
}

/**
 * The samples matching `q`, newest iteration first, at most `limit`; `total`
 * counts them all (a search over a long run lists a page, and says how many).
 */
export function search(batches: Iterable<KeptBatch>, q: SampleQuery, limit = 200): { found: Found[]; total: number; iterations: number } {
  const found: Found[] = [];
  let total = 0;
  const hit = new Set<number>();
  const all = [...batches];
  for (let i = all.length - 1; i >= 0; i--) {
    const b = all[i];
    for (const s of b.samples) {
      if (!matches(s, q)) continue;
      total++;
      hit.add(b.iteration);
      if (found.length < limit) found.push({ iteration: b.iteration, sample: s });
    }
  }
  return { found, total, iterations: hit.size };
}

/** One JSON object a line: iteration, position in the batch, prompt, completion, reward, each component, length, and what the task measured. */
export function toJsonl(batches: Iterable<KeptBatch>, q: SampleQuery = ANY): string {
  const lines: string[] = [];
  for (const b of batches) {
    for (const s of b.samples) {
      if (!matches(s, q)) continue;
      const line: Record<string, unknown> = { iteration: b.iteration, index: s.index, prompt: s.prompt, text: s.text, reward: s.reward, components: s.components, length: s.length, refLogprob: s.refLogprob };
      if (s.advantage !== undefined) line.advantage = s.advantage;
      if (s.fields) line.fields = s.fields;
      if (s.episode) line.episode = { length: s.episode.length, return: s.episode.return, terminated: s.episode.terminated };
      lines.push(JSON.stringify(line));
    }
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}
