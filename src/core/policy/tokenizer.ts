/**
 * A character-level tokenizer built from a task's alphabet. Id 0 is the start
 * token (also the left padding of short contexts), id 1 the end (stop) token;
 * symbols follow in alphabet order. Non-text tasks (pixels, protocol symbols)
 * use the same class with their own symbols.
 */
export const BOS = 0;
export const EOS = 1;

export class Tokenizer {
  readonly symbols: readonly string[];
  readonly #ids: Map<string, number>;
  readonly #longest: number;

  constructor(alphabet: readonly string[] | string) {
    const symbols = typeof alphabet === 'string' ? Array.from(alphabet) : [...alphabet];
    if (symbols.length === 0) throw new Error('Tokenizer: the alphabet is empty');
    const seen = new Set<string>();
    for (const s of symbols) {
      if (s.length === 0) throw new Error('Tokenizer: the alphabet holds an empty symbol');
      if (seen.has(s)) throw new Error(`Tokenizer: the alphabet holds ${JSON.stringify(s)} twice`);
      seen.add(s);
    }
    this.symbols = symbols;
    this.#longest = Math.max(...symbols.map((s) => Array.from(s).length));
    this.#ids = new Map(symbols.map((s, i) => [s, i + 2]));
  }

  get vocabSize(): number {
    return this.symbols.length + 2;
  }

  /**
   * Encodes text (longest symbol first, so multi-character symbols such as
   * colours work) or a list of symbols. An unknown symbol is an error naming
   * it and its position.
   */
  encode(input: string | readonly string[]): number[] {
    if (typeof input !== 'string') {
      return input.map((sym, i) => {
        const id = this.#ids.get(sym);
        if (id === undefined) throw new Error(`Tokenizer: symbol ${JSON.stringify(sym)} at position ${i} is not in the alphabet`);
        return id;
      });
    }
    const out: number[] = [];
    const chars = Array.from(input);
    for (let i = 0; i < chars.length; ) {
      let matched = 0;
      for (let len = Math.min(this.#longest, chars.length - i); len > 0; len--) {
        const id = this.#ids.get(chars.slice(i, i + len).join(''));
        if (id !== undefined) {
          out.push(id);
          matched = len;
          break;
        }
      }
      if (!matched) throw new Error(`Tokenizer: ${JSON.stringify(chars[i])} at position ${i} of ${JSON.stringify(input)} is not in the alphabet`);
      i += matched;
    }
    return out;
  }

  /** Decodes symbol ids; decoding stops at the end token, and the start token is skipped. */
  decode(ids: readonly number[]): string {
    let s = '';
    for (const id of ids) {
      if (id === EOS) break;
      if (id === BOS) continue;
      const sym = this.symbols[id - 2];
      if (sym === undefined) throw new Error(`Tokenizer: id ${id} is outside the vocabulary of ${this.vocabSize}`);
      s += sym;
    }
    return s;
  }

  /** Readable name of one id, for tables and samples. */
  label(id: number): string {
    if (id === BOS) return '<s>';
    if (id === EOS) return '</s>';
    return this.symbols[id - 2] ?? `<${id}?>`;
  }
}
