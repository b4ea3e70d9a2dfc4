import type { MlpConfig, TransformerConfig } from '../../src/core/policy.ts';

export const tinyMlp: MlpConfig = { arch: 'mlp', vocabSize: 12, contextLength: 3, embedDim: 4, hiddenDim: 16 };
export const tinyTransformer: TransformerConfig = { arch: 'transformer', vocabSize: 12, contextLength: 16, layers: 2, heads: 2, width: 16 };
