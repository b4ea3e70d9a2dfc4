/** Named starting points for reward code, shared by the command line and the editor. */
export const REWARD_PRESETS: Record<string, { title: string; source: string }> = {
  length: {
    title: 'Name length (longer is better)',
    source: 'function reward(sample, ctx) {\n  return sample.text.length;\n}\n',
  },
  short: {
    title: 'Short names',
    source: 'function reward(sample, ctx) {\n  return -sample.text.length;\n}\n',
  },
  vowels: {
    title: 'Vowel-rich names',
    source: 'function reward(sample, ctx) {\n  const n = sample.text.length;\n  return n === 0 ? 0 : ctx.helpers.vowels(sample.text) / n;\n}\n',
  },
  startsWithZ: {
    title: 'Names starting with z',
    source: "function reward(sample, ctx) {\n  return sample.text.startsWith('z') ? 1 : 0;\n}\n",
  },
};
