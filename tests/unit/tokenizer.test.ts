import { describe, expect, it } from 'vitest';
import { BOS, EOS, Tokenizer } from '../../src/core/policy/tokenizer.ts';

describe('Tokenizer', () => {
  const tok = new Tokenizer('abc');

  it('reserves start and end tokens before the alphabet', () => {
    expect(tok.vocabSize).toBe(5);
    expect(tok.encode('cab')).toEqual([4, 2, 3]);
    expect(tok.label(BOS)).toBe('<s>');
    expect(tok.label(EOS)).toBe('</s>');
  });

  it('round-trips text, stopping at the end token', () => {
    expect(tok.decode(tok.encode('abcab'))).toBe('abcab');
    expect(tok.decode([BOS, ...tok.encode('ab'), EOS, ...tok.encode('c')])).toBe('ab');
  });

  it('works for non-text symbols', () => {
    const pixels = new Tokenizer(['#000', '#fff', '#f00']);
    const ids = pixels.encode(['#f00', '#000']);
    expect(ids).toEqual([4, 2]);
    expect(pixels.encode('#f00#000')).toEqual(ids);
    expect(pixels.decode(ids)).toBe('#f00#000');
    expect(pixels.vocabSize).toBe(5);
  });

  it('names the symbol it cannot encode and the id it cannot decode', () => {
    expect(() => tok.encode('abz')).toThrow(/"z" at position 2/);
    expect(() => tok.decode([9])).toThrow(/id 9 is outside the vocabulary of 5/);
    expect(() => new Tokenizer('aa')).toThrow(/"a" twice/);
  });
});
