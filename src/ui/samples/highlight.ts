/** A task's finds in a sample's text (fields.detections: { kind, text, start }), for highlighting. */
export interface Detection {
  kind: string;
  text: string;
  start: number;
}

/** The text cut into plain and found parts, in order; finds that overlap an earlier one or fall outside the text are left plain. */
export function highlight(text: string, detections: readonly Detection[]): { text: string; kind: string | null }[] {
  const out: { text: string; kind: string | null }[] = [];
  let at = 0;
  for (const d of [...detections].sort((a, b) => a.start - b.start)) {
    const end = d.start + d.text.length;
    if (d.start < at || end > text.length || text.slice(d.start, end) !== d.text) continue;
    if (d.start > at) out.push({ text: text.slice(at, d.start), kind: null });
    out.push({ text: d.text, kind: d.kind });
    at = end;
  }
  if (at < text.length) out.push({ text: text.slice(at), kind: null });
  return out;
}

/** The detections of a sample's fields, when the task reports any. */
export function detectionsOf(fields: Readonly<Record<string, unknown>> | undefined): Detection[] {
  const d = fields?.detections;
  return Array.isArray(d) ? (d.filter((x) => typeof x?.kind === 'string' && typeof x?.text === 'string' && Number.isInteger(x?.start)) as Detection[]) : [];
}
