/**
 * The policy architectures, in the order the page offers them: the one list the
 * schema, the tasks, the scripts and the policies read. Free of tfjs, so the page
 * and the light workers can import it without loading tfjs.
 */
export const ARCHS = ['mlp', 'transformer'] as const;
export type Arch = (typeof ARCHS)[number];
