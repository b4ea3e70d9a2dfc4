/** Reward source with the editor's contract: a comment, then the body of `reward`. */
export function reward(comment: string, ...body: string[]): string {
  return [comment, 'function reward(sample, ctx) {', ...body.map((l) => `  ${l}`), '}', ''].join('\n');
}
