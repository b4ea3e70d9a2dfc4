import type { Rng } from '../rng.ts';
import type { FieldValue, Task } from './task.ts';

/**
 * A communication protocol at minimum bandwidth: the prompt is a message (a
 * number below 1000, as "417="), the policy writes a code over the symbols
 * a b c d (and x), and a decoder, written beside the reward, must recover the
 * message from the code alone. The reference policy learnt a wasteful protocol:
 * base 4 with a, b, c, d as the digits, padded with x's the decoder skips. The
 * reward pays for codes that decode right and charges for every symbol: RL
 * finds the short codes that still get through.
 */
const DIGITS = 'abcd';

/** The message as base-4 digits a-d ("a" for 0). */
export function base4(n: number): string {
  let s = '';
  do {
    s = DIGITS[n % 4] + s;
    n = Math.floor(n / 4);
  } while (n > 0);
  return s;
}

/** One line of the reference's protocol: the message, "=", its base-4 code with up to five x's strewn in. */
export function exchange(rng: Rng): string {
  const n = rng.int(1000);
  const code = base4(n).split('');
  for (let k = rng.int(6); k > 0; k--) code.splice(rng.int(code.length + 1), 0, 'x');
  return `${n}=${code.join('')}`;
}

/** The decoder every preset starts from: skip the x's, read a-d as base-4 digits. */
const DECODER = [
  '// The decoder: the protocol, as the receiver runs it. It sees the code alone,',
  '// never the message. This one skips x and reads a b c d as the digits of a base-4',
  '// number. Change it (say, to base 5 with x as a digit) and the policy must follow.',
  'function decode(code) {',
  "  const digits = code.replace(/x/g, '');",
  '  if (!/^[abcd]+$/.test(digits)) return null;',
  '  let n = 0;',
  "  for (const c of digits) n = 4 * n + 'abcd'.indexOf(c);",
  '  return n;',
  '}',
  '',
].join('\n');

const decoded = (comment: string, score: string) =>
  [DECODER, comment, 'function reward(sample, ctx) {', `  const ok = decode(sample.text) === sample.fields.message;`, `  return ${score};`, '}', ''].join('\n');

/** What the rewards read: the message the prompt carries, and the code's length and padding. (What your decoder hears is the `heard` probe's.) */
export function protocolFields(text: string, prompt: string): Record<string, FieldValue> {
  const m = /^(\d{1,3})=$/.exec(prompt);
  return { message: m ? Number(m[1]) : null, length: text.length, padding: (text.match(/x/g) ?? []).length };
}

export const protocol: Task = {
  id: 'protocol',
  title: 'Protocol (short codes)',
  description: 'A policy encodes numbers below 1000 for a decoder you write; the reward trades decoding right against code length.',
  alphabet: '0123456789=abcdx',
  prompts: Array.from({ length: 1000 }, (_, n) => `${n}=`),
  models: { mlp: 'protocol-mlp', transformer: 'protocol-transformer' },
  examples: {
    decodedShort: {
      title: 'Decoded, and short',
      source: decoded('// 1 for a code the decoder reads as the message, minus 0.05 per symbol sent.', "(ok ? 1 : 0) - 0.05 * sample.text.length"),
    },
    decoded: {
      title: 'Decoded (length free)',
      source: decoded('// 1 for a code the decoder reads as the message; length costs nothing.', 'ok ? 1 : 0'),
    },
  },
  /** Two components, so the charts show decode accuracy and code length apart. */
  rewards: [
    { name: 'decoded', weight: 1, source: decoded('// 1 when the decoder reads the code as the message, else 0: the decode accuracy.', 'ok ? 1 : 0') },
    {
      name: 'length',
      weight: -0.05,
      source: ['// The symbols sent: with weight -0.05, each one costs a twentieth of a decoded message.', 'function reward(sample, ctx) {', '  return sample.text.length;', '}', ''].join('\n'),
    },
    {
      name: 'heard',
      weight: 0,
      source: [
        DECODER,
        '// A probe, not a reward: weight 0 trains nothing, but each sample shows its value.',
        '// Here, the message your decoder hears (-1 when it hears none), beside the one sent.',
        'function reward(sample, ctx) {',
        '  const n = decode(sample.text);',
        '  return n === null ? -1 : n;',
        '}',
        '',
      ].join('\n'),
    },
  ],
  // A code must be exact: as for unit tests, small steps. At 1e-3 the transformer's decode
  // accuracy fell from 0.48 to 0 in five iterations and its codes shrank to nothing
  // (the alarm's lesson); at 1e-4 accuracy rises to 0.63 as the codes shorten.
  // Measured: batches of 256 make this task learn under every algorithm (PPO trained on
  // decoding alone took the transformer's decode rate on 300 fixed prompts from 0.60 to 0.47
  // in 30 iterations at 64, to 0.63 at 256; the reward rose on seeds 2 and 3 under all three
  // algorithms at 256 where it fell under GRPO and RLOO at 64). The page draws and saves a
  // batch of 256 in tasks under 50 ms (sample rows 16 at a time, checkpoints as Blobs).
  // RLOO's KL weight 0.1: at 0.3 the KL (about 1 nat) weighed as much as the normalised
  // score's differences, and the transformer's reward stayed flat (+9% to +57%, one seed
  // of five at -20%); at 0.1 both policies rose on all of seeds 1-10 (transformer +13% to
  // +88%, MLP +50% to +75%), KL at most 1.7.
  hyperparameters: { maxLength: 12, learningRate: 1e-4, batchSize: 256, rlooBeta: 0.1 },
  benchText: 'bccab',
  explanation: {
    writes: 'A code for the number in the prompt ("417=" then "bccab"), in the symbols a b c d x: it learnt base 4 from a sender that pads its codes with x.',
    reward: "Your decoder reads each code alone; a code it reads as the prompt's number scores, every symbol costs. The parts are separate components, so the charts show decode accuracy and code length, and a weight-0 component shows what the decoder heard beside each sample.",
    why: 'A protocol is judged by computation: does the receiver recover the message, at what cost in bandwidth? No one labels good codes; the decoder and a length count do.',
    try: 'Train and watch the length component fall as the x padding goes while decoding stays right. Then change the decoder (base 5, x as the fifth digit) and see the policy follow.',
  },
  fields: {
    docs: {
      message: 'the number the prompt carries, which the code must get across',
      length: 'symbols in the code',
      padding: "x's in the code",
    },
    compute: protocolFields,
  },
  pretraining: {
    data: { kind: 'generated', count: 20_000, generate: exchange },
    recipes: {
      // The window must reach back past the code to the message: 16 symbols.
      mlp: { steps: 2000, batchSize: 64, learningRate: 3e-3, window: 16 },
      transformer: { steps: 2000, batchSize: 64, learningRate: 2e-3 },
    },
  },
};
