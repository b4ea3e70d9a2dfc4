import type { Experiment } from '../core/experiment/experiment.ts';
import { runFile } from '../core/experiment/runFile.ts';
import type { IterationMetrics } from '../core/training/metrics.ts';

/**
 * What the page exports, as files: the metrics as CSV, a chart as PNG, and the
 * download itself. The experiment's JSON is a run file (src/core/experiment/runFile.ts).
 */

/** One row per iteration; reward components as reward.<name>, alarms joined by "; ". Columns any iteration has. */
export function metricsCsv(metrics: readonly IterationMetrics[]): string {
  const columns: string[] = [];
  const add = (c: string) => {
    if (!columns.includes(c)) columns.push(c);
  };
  for (const m of metrics) {
    for (const [k, v] of Object.entries(m)) {
      if (k === 'rewardComponents') for (const name of Object.keys(v as Record<string, number>)) add(`reward.${name}`);
      else add(k);
    }
  }
  const cell = (m: IterationMetrics, c: string): string => {
    const v = c.startsWith('reward.') ? m.rewardComponents[c.slice(7)] : (m as unknown as Record<string, unknown>)[c];
    if (v === undefined || v === null) return '';
    if (Array.isArray(v)) return quote(v.join('; '));
    return typeof v === 'string' ? quote(v) : String(v);
  };
  return [columns.map(quote).join(','), ...metrics.map((m) => columns.map((c) => cell(m, c)).join(','))].join('\n') + '\n';
}

function quote(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** A chart's canvas as a PNG with its title above, on white (uPlot's canvas is transparent). */
export function chartPng(canvas: HTMLCanvasElement, title: string): Promise<Blob> {
  const scale = canvas.width / canvas.clientWidth || 1;
  const head = Math.round(22 * scale);
  const out = document.createElement('canvas');
  out.width = canvas.width;
  out.height = canvas.height + head;
  const g = out.getContext('2d')!;
  g.fillStyle = '#fff';
  g.fillRect(0, 0, out.width, out.height);
  g.fillStyle = '#111';
  g.font = `600 ${Math.round(13 * scale)}px system-ui, sans-serif`;
  g.fillText(title, Math.round(6 * scale), Math.round(15 * scale));
  g.drawImage(canvas, 0, head);
  return new Promise((resolve, reject) => out.toBlob((b) => (b ? resolve(b) : reject(new Error('the browser could not draw the chart as PNG'))), 'image/png'));
}

/** Saves a blob under a file name through the browser's download. */
export function download(name: string, data: Blob | string, type = 'application/json'): void {
  const blob = typeof data === 'string' ? new Blob([data], { type }) : data;
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** A file name from parts: letters, digits, dots and dashes only. */
export function fileName(...parts: (string | number)[]): string {
  return parts.map((p) => String(p).replace(/[^\w.-]+/g, '-').replace(/^-+|-+$/g, '')).filter(Boolean).join('-');
}

/** The run file of an experiment and its history (the Experiment export; the storage banner offers it too). */
export function downloadRunFile(experiment: Experiment, iteration: number, metrics: IterationMetrics[]): void {
  const base = fileName(experiment.task, experiment.algorithm, experiment.arch, `seed${experiment.seed}`, `it${iteration}`);
  download(`${base}.experiment.json`, JSON.stringify(runFile(base, experiment, metrics), null, 2) + '\n');
}
