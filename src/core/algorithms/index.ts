import type { Algorithm } from './algorithm.ts';
import type { AlgorithmId } from './catalog.ts';
import { grpo } from './grpo.ts';
import { ppo } from './ppo.ts';
import { rloo } from './rloo.ts';

/** Every algorithm's step, by id. The catalog beside it says what each is without loading tfjs. */
export const ALGORITHM_STEPS: Readonly<Record<AlgorithmId, Algorithm>> = { ppo, grpo, rloo };
