/** Words of a line: lower case runs of letters and apostrophes, the apostrophes at either end dropped ("lov'd" stays). */
export function splitWords(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^a-z']+/)
    .map((w) => w.replace(/^'+|'+$/g, ''))
    .filter(Boolean);
}
