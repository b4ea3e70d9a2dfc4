import type { Rng } from '../rng.ts';
import type { FieldValue, Task } from './task.ts';
import { reward } from './rewardSource.ts';
import { lazyPackage } from './lazy.ts';

/**
 * Privacy (reinforcement learning from privacy feedback): a policy pretrained
 * on generated everyday sentences, many of which carry made-up personal data
 * (names, email addresses, phone numbers, card numbers, street addresses,
 * places). A detector finds it, with patterns for the contact details and the
 * `compromise` NLP package for people and places; the reward makes each find
 * cost, so the policy learns to write the sentence without it.
 */

const compromise = lazyPackage('compromise', async () => (await import('compromise')).default);

const FIRST = ['Maria', 'James', 'Aisha', 'Noah', 'Olivia', 'Liam', 'Sofia', 'Lucas', 'Emma', 'Mateo', 'Chloe', 'Ethan', 'Grace', 'Daniel', 'Hannah', 'Omar', 'Zoe', 'Samuel', 'Mia', 'Leo', 'Nora', 'Adam', 'Ruby', 'Hugo'];
const LAST = ['Lopez', 'Smith', 'Khan', 'Garcia', 'Brown', 'Nguyen', 'Patel', 'Miller', 'Rossi', 'Kim', 'Jones', 'Silva', 'Meyer', 'Cohen', 'Walker', 'Novak'];
const CITIES = ['Boston', 'Paris', 'Madrid', 'Denver', 'Chicago', 'London', 'Berlin', 'Toronto', 'Dallas', 'Seattle'];
const STREETS = ['Oak', 'Maple', 'Cedar', 'Pine', 'Hill', 'Lake', 'Park', 'Mill', 'River', 'Elm'];
const SUFFIXES = ['Street', 'Road', 'Avenue', 'Lane'];
const DOMAINS = ['mail.com', 'post.org', 'inbox.net'];
const DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday'];
const THINGS = ['report', 'budget', 'invoice', 'plan', 'draft', 'schedule', 'order', 'slides', 'contract', 'notes'];

const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[rng.int(xs.length)];
const digits = (rng: Rng, n: number) => Array.from({ length: n }, () => rng.int(10)).join('');

/** A 16-digit card number that passes the Luhn check, in groups of four. */
function card(rng: Rng): string {
  const d = Array.from({ length: 15 }, (_, i) => (i === 0 ? 4 : rng.int(10)));
  let sum = 0;
  for (let i = 0; i < 15; i++) {
    let v = d[14 - i];
    if (i % 2 === 0) v = v * 2 > 9 ? v * 2 - 9 : v * 2;
    sum += v;
  }
  d.push((10 - (sum % 10)) % 10);
  return d.join('').replace(/(\d{4})(?=\d)/g, '$1 ');
}

/** One sentence: about six in ten carry personal data. */
export function sentence(rng: Rng): string {
  const first = pick(rng, FIRST);
  const last = pick(rng, LAST);
  const thing = pick(rng, THINGS);
  const day = pick(rng, DAYS);
  const templates = [
    () => `Call ${first} at 555-${digits(rng, 3)}-${digits(rng, 4)}.`,
    () => `${first} ${last} lives at ${1 + rng.int(99)} ${pick(rng, STREETS)} ${pick(rng, SUFFIXES)}.`,
    () => `Email ${first} at ${first.toLowerCase()}.${last.toLowerCase()}@${pick(rng, DOMAINS)}.`,
    () => `Send the ${thing} to ${first.toLowerCase()}@${pick(rng, DOMAINS)} by ${day}.`,
    () => `${first} met ${pick(rng, FIRST)} in ${pick(rng, CITIES)} on ${day}.`,
    () => `My card number is ${card(rng)}.`,
    () => `Ask ${first} ${last} about the ${thing}.`,
    () => `The ${thing} is due on ${day}.`,
    () => `Please send the ${thing} by ${day}.`,
    () => `We will go over the ${thing} next week.`,
    () => `The ${thing} was moved to ${day}.`,
    () => `Thanks for the ${thing}, it helps a lot.`,
  ];
  return pick(rng, templates)();
}

const PATTERNS: [string, RegExp][] = [
  ['email', /[\w.+-]+@[\w-]+(\.[\w-]+)+/g],
  ['card', /\b\d{4}[ -]?\d{4}[ -]?\d{4}[ -]?\d{4}\b/g],
  ['phone', /\b\d{3}[- ]\d{3}[- ]\d{4}\b/g],
  ['address', /\b\d+ [A-Z][a-z]+ (Street|Road|Avenue|Lane|Way|Drive)\b/g],
];

function luhn(text: string): boolean {
  const d = text.replace(/\D/g, '');
  let sum = 0;
  for (let i = 0; i < d.length; i++) {
    let v = Number(d[d.length - 1 - i]);
    if (i % 2 === 1) v = v * 2 > 9 ? v * 2 - 9 : v * 2;
    sum += v;
  }
  return sum % 10 === 0;
}

/** The personal data in a sentence: each find with its kind and where it is. */
export function detect(text: string): { kind: string; text: string; start: number }[] {
  const found: { kind: string; text: string; start: number }[] = [];
  const taken: [number, number][] = [];
  const free = (s: number, e: number) => taken.every(([a, b]) => e <= a || s >= b);
  const add = (kind: string, match: string, start: number) => {
    if (start < 0 || !free(start, start + match.length)) return;
    taken.push([start, start + match.length]);
    found.push({ kind, text: match, start });
  };
  for (const [kind, re] of PATTERNS) {
    for (const m of text.matchAll(re)) if (kind !== 'card' || luhn(m[0])) add(kind, m[0], m.index!);
  }
  const doc = compromise.get()(text);
  for (const [kind, list] of [['name', doc.people().out('array')], ['place', doc.places().out('array')]] as [string, string[]][]) {
    let from = 0;
    for (const raw of list) {
      const match = raw.replace(/[.,!?;:]+$/, '');
      const start = text.indexOf(match, from);
      if (start >= 0) from = start + match.length;
      add(kind, match, start);
    }
  }
  return found.sort((a, b) => a.start - b.start);
}

/** What the privacy rewards read, for one sentence. */
export function privacyFields(text: string): Record<string, FieldValue> {
  const detections = detect(text);
  const count = (kind: string) => detections.filter((d) => d.kind === kind).length;
  const words = text.split(/\s+/).filter(Boolean).length;
  return {
    found: detections.length,
    names: count('name'),
    places: count('place'),
    emails: count('email'),
    phones: count('phone'),
    cards: count('card'),
    addresses: count('address'),
    words,
    wellFormed: /^[A-Z]/.test(text) && /[.!?]$/.test(text) && words >= 4 && !/\s{2}/.test(text),
    detections,
  };
}

export const privacy: Task = {
  id: 'privacy',
  title: 'Privacy (personal data)',
  description: 'A policy pretrained on everyday sentences full of made-up personal data; a detector finds it, and the reward makes each find cost.',
  alphabet: " '(),-.0123456789:?@ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
  prompts: [''],
  models: { mlp: 'privacy-mlp', transformer: 'privacy-transformer' },
  prepare: compromise.load,
  examples: {
    noPersonalData: {
      title: 'No personal data, well formed',
      source: reward(
        '// Every piece of personal data the detector finds costs 1 (names, places, emails,',
        '// phone and card numbers, street addresses). A sentence must stay a sentence:',
        '// one that is not well formed (capital first, stop last, four words or more)',
        '// costs 1 as well, or the policy would learn to write nothing at all.',
        'return -sample.fields.found - (sample.fields.wellFormed ? 0 : 1);',
      ),
    },
    contactsFirst: {
      title: 'Contact details cost most',
      source: reward(
        '// A phone, card or email number can reach a person: 3 each. Names and places: 1.',
        'const f = sample.fields;',
        'const cost = 3 * (f.emails + f.phones + f.cards) + f.addresses + f.names + f.places;',
        'return -cost - (f.wellFormed ? 0 : 1);',
      ),
    },
  },
  // Long completions move the transformer fast: at 1e-3 its KL passed 200 nats in 30 iterations.
  hyperparameters: { maxLength: 60, learningRate: 3e-4 },
  benchText: 'Call Maria Lopez at 555-201-3344.',
  explanation: {
    writes: 'An everyday sentence, character by character, as in its training data: meetings, reports, and often a name, an email address, a phone or card number, an address.',
    reward: 'A detector reads each sentence: patterns for emails, phone numbers, card numbers (Luhn-checked) and street addresses, and the compromise NLP package for people and places. The reward reads what it found.',
    why: 'Reinforcement learning from privacy feedback: no one labels sentences as private; a detector does, and the policy learns to leak less while the KL penalty keeps it writing real sentences.',
    try: 'Train "No personal data, well formed" and watch the highlighted finds disappear from the samples. Then drop the well-formed term and see what the policy does instead.',
  },
  fields: {
    docs: {
      found: 'how many pieces of personal data the detector found',
      names: 'people named (compromise)',
      places: 'places named (compromise)',
      emails: 'email addresses',
      phones: 'phone numbers',
      cards: 'card numbers that pass the Luhn check',
      addresses: 'street addresses',
      words: 'words in the sentence',
      wellFormed: 'starts with a capital, ends with . ! or ?, has four words or more',
      detections: 'each find as { kind, text, start }',
    },
    compute: (text) => privacyFields(text),
  },
  pretraining: {
    data: { kind: 'generated', count: 20_000, generate: sentence },
    recipes: {
      mlp: { steps: 3000, batchSize: 48, learningRate: 3e-3 },
      transformer: { steps: 3000, batchSize: 24, learningRate: 2e-3 },
    },
  },
};
