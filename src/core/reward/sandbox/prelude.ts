import { describeValue } from '../reward.ts';
import { rewardHelpers } from '../helpers.ts';

/** Most console lines a batch keeps (the last ones), and most characters per line. */
export const LOG_LINES = 200;
export const LOG_LINE_CHARS = 500;

/**
 * The script each reward's QuickJS context runs before the person's code. It
 * defines the documented globals (`helpers`, a capped `console`) and returns
 * the harness as an array of functions that only the host holds handles to:
 * user code cannot reach or replace them, and the built-ins they use are
 * captured before user code runs.
 *
 * Samples go in as JSON and results come out as JSON: plain data both ways.
 * `helpers` is built from the same functions the trusted path uses, so the two
 * agree by construction; the tasks' helpers (`hostHelpers`, a classifier, say)
 * run outside, reached through one host function that takes and returns JSON.
 */
export function prelude(hostHelpers: readonly string[]): string {
  return `(() => {
  'use strict';
  const stringify = JSON.stringify, parse = JSON.parse, isArray = Array.isArray, freeze = Object.freeze, String_ = String;
  const host = globalThis.__host;
  delete globalThis.__host;
  const hosted = (name) => (...args) => parse(host(name, stringify(args)));
  const ring = new Array(${LOG_LINES});
  let head = 0, count = 0, dropped = 0;
  const show = (v) => {
    if (typeof v === 'string') return v;
    try { const s = stringify(v); return s === undefined ? String_(v) : s; } catch (e) { return String_(v); }
  };
  const log = (prefix) => (...args) => {
    let line = prefix;
    for (let i = 0; i < args.length && line.length <= ${LOG_LINE_CHARS}; i++) line += (i ? ' ' : '') + show(args[i]);
    ring[head] = line.length > ${LOG_LINE_CHARS} ? line.slice(0, ${LOG_LINE_CHARS}) + '…' : line;
    head = (head + 1) % ${LOG_LINES};
    if (count < ${LOG_LINES}) count++; else dropped++;
  };
  const drain = () => {
    const lines = [];
    for (let i = 0; i < count; i++) lines.push(ring[(head - count + i + ${LOG_LINES}) % ${LOG_LINES}]);
    const out = { lines, dropped };
    head = 0; count = 0; dropped = 0;
    return out;
  };
  globalThis.console = freeze({ log: log(''), info: log(''), debug: log(''), warn: log('warn: '), error: log('error: ') });
  const helpers = freeze({ ${Object.entries(rewardHelpers)
    .map(([name, fn]) => `${name}: ${fn.toString()}`)
    .join(', ')}${hostHelpers.map((name) => `, ${JSON.stringify(name)}: hosted(${JSON.stringify(name)})`).join('')} });
  globalThis.helpers = helpers;

  const describe = (${describeValue.toString()});
  const isPromise = (v) => v !== null && typeof v === 'object' && typeof v.then === 'function';
  const failure = (e, index) => {
    const isError = e !== null && typeof e === 'object' && 'message' in e;
    const name = isError ? String_(e.name) : '';
    const message = isError ? String_(e.message).slice(0, 300) : show(e).slice(0, 300);
    const stack = isError && typeof e.stack === 'string' ? e.stack.slice(0, 400) : '';
    const kind = name === 'InternalError' && message === 'out of memory' ? 'memory'
      : (name === 'InternalError' || name === 'RangeError') && /stack overflow|call stack/i.test(message) ? 'stack'
      : 'throw';
    return { kind, index, name, message, stack };
  };

  let fn = null, batch = false, current = -1;
  const locate = () => {
    const r = typeof reward === 'function' ? reward : undefined;
    const b = typeof rewardBatch === 'function' ? rewardBatch : undefined;
    if (r && b) return 'both';
    if (b) { fn = b; batch = true; return 'rewardBatch'; }
    if (r) { fn = r; batch = false; return 'reward'; }
    return 'none';
  };
  const score = (samplesJson, ctxJson) => {
    const samples = parse(samplesJson);
    const ctx = parse(ctxJson);
    ctx.helpers = helpers;
    freeze(ctx);
    let values;
    if (batch) {
      current = -1;
      let out;
      try { out = fn(samples, ctx); } catch (e) { return stringify({ error: failure(e, -1), logs: drain() }); }
      if (isPromise(out)) return stringify({ error: { kind: 'promise', index: -1 }, logs: drain() });
      if (!isArray(out)) return stringify({ error: { kind: 'shape', index: -1, value: describe(out) }, logs: drain() });
      if (out.length !== samples.length) return stringify({ error: { kind: 'count', index: -1, value: String_(out.length) }, logs: drain() });
      values = out;
    } else {
      values = new Array(samples.length);
      for (let i = 0; i < samples.length; i++) {
        current = i;
        try { values[i] = fn(samples[i], ctx); } catch (e) { return stringify({ error: failure(e, i), logs: drain() }); }
      }
    }
    const clean = new Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (typeof v !== 'number' || v !== v || v === Infinity || v === -Infinity) {
        return stringify({ error: { kind: isPromise(v) ? 'promise' : 'value', index: i, value: describe(v) }, logs: drain() });
      }
      clean[i] = v;
    }
    return stringify({ values: clean, logs: drain() });
  };
  const where = () => current;
  return [locate, score, where, drain];
})()`;
}
