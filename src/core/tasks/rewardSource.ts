/** Reward source with the editor's contract: a comment (with any comment lines that open the body), then the body of `reward`. */
export function reward(comment: string, ...body: string[]): string {
  const lead = [comment];
  while (body.length > 0 && body[0].startsWith('//')) lead.push(body.shift()!);
  return [...lead, 'function reward(sample, ctx) {', ...body.map((l) => `  ${l}`), '}', ''].join('\n');
}
