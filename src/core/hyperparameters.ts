/**
 * Every training setting in one table: the doc line, default and allowed range of
 * each field, and the group it belongs to (settings of all algorithms, of one
 * algorithm, or of the reward sandbox). The `Hyperparameters` type, the defaults,
 * the validator, the form in the app and the CLI's --set are all read from this
 * table, so a field is written once.
 */
/** Who a setting is for: every algorithm, PPO, the group-based GRPO and RLOO, one of them, the control tasks, or the reward sandbox. */
export type SettingGroup = 'common' | 'ppo' | 'group' | 'grpo' | 'rloo' | 'control' | 'sandbox';
interface NumberField {
  kind: 'int' | 'float';
  group: SettingGroup;
  doc: string;
  default: number;
  min: number;
  max: number;
}
interface BoolField {
  kind: 'bool';
  group: SettingGroup;
  doc: string;
  default: boolean;
}
interface EnumField {
  kind: 'enum';
  group: SettingGroup;
  doc: string;
  default: string;
  options: readonly string[];
}
export type FieldSpec = NumberField | BoolField | EnumField;

export const HYPERPARAMETERS = {
  batchSize: { kind: 'int', group: 'common', doc: 'Completions sampled per iteration (the rollout batch).', default: 64, min: 2, max: 1024 },
  epochs: { kind: 'int', group: 'common', doc: 'Passes of updates over each rollout batch.', default: 4, min: 1, max: 32 },
  minibatches: { kind: 'int', group: 'common', doc: 'Shuffled minibatches per epoch; must divide the batch size.', default: 2, min: 1, max: 256 },
  learningRate: { kind: 'float', group: 'common', doc: 'Adam step size (Adam eps is 1e-5, as in the PPO implementations).', default: 1e-3, min: 1e-7, max: 0.1 },
  clipRange: { kind: 'float', group: 'common', doc: 'Policy ratio clip epsilon: the update ignores ratios outside [1-eps, 1+eps].', default: 0.2, min: 0.01, max: 1 },
  valueClipRange: { kind: 'float', group: 'ppo', doc: 'How far a value prediction may move from its rollout value before its loss is clipped; 0 turns value clipping off.', default: 0.2, min: 0, max: 100 },
  valueCoef: { kind: 'float', group: 'ppo', doc: 'Weight of the value loss in the total loss.', default: 0.5, min: 0, max: 10 },
  entropyCoef: { kind: 'float', group: 'common', doc: 'Weight of the entropy bonus; more keeps sampling diverse.', default: 0.0, min: 0, max: 1 },
  maxGradNorm: { kind: 'float', group: 'common', doc: 'Global gradient norm clip per update step.', default: 1, min: 0.01, max: 100 },
  gamma: { kind: 'float', group: 'ppo', doc: 'Discount per token (1: the final score counts fully for every token).', default: 1, min: 0, max: 1 },
  gaeLambda: { kind: 'float', group: 'ppo', doc: 'GAE lambda: 0 trusts the value head, 1 the sampled returns.', default: 0.95, min: 0, max: 1 },
  whitenAdvantages: { kind: 'bool', group: 'ppo', doc: 'Normalise advantages to zero mean, unit variance over the batch.', default: true },
  klCoef: { kind: 'float', group: 'ppo', doc: 'Per-token KL penalty to the reference policy (beta); the start value when adaptive.', default: 1, min: 0, max: 10 },
  adaptiveKl: { kind: 'bool', group: 'ppo', doc: 'Adapt beta towards the KL target (Ziegler et al. 2019) instead of keeping it fixed.', default: true },
  klTarget: { kind: 'float', group: 'ppo', doc: 'Target KL to the reference, in nats per completion, for the adaptive controller.', default: 6, min: 0.01, max: 100 },
  klHorizon: { kind: 'int', group: 'ppo', doc: 'Adaptive controller horizon, in completions: larger moves beta more slowly.', default: 200, min: 1, max: 1000000 },
  temperature: { kind: 'float', group: 'common', doc: 'Sampling temperature of the policy (also used for its log-probabilities).', default: 1, min: 0.05, max: 5 },
  topK: { kind: 'int', group: 'common', doc: 'Sample only from the k likeliest tokens; 0 samples from all.', default: 0, min: 0, max: 1000 },
  maxLength: { kind: 'int', group: 'common', doc: 'Most tokens a completion may have, its stop token included.', default: 20, min: 1, max: 256 },
  rewardTimeLimitMs: { kind: 'int', group: 'sandbox', doc: 'Reward sandbox: most milliseconds the reward code may run on one batch (all components together).', default: 1000, min: 10, max: 60000 },
  rewardMemoryMiB: { kind: 'int', group: 'sandbox', doc: 'Reward sandbox: most memory the reward code may allocate, in MiB.', default: 32, min: 1, max: 1024 },
  rewardStackKiB: { kind: 'int', group: 'sandbox', doc: 'Reward sandbox: most stack the reward code may use, in KiB (about 1000 nested calls at the default).', default: 256, min: 32, max: 4096 },
  targetKl: { kind: 'float', group: 'common', doc: 'Stop an update early, after the epoch in which the approx. KL between old and new policy passes this; 0: never.', default: 0, min: 0, max: 10 },
  scoreNormalize: { kind: 'bool', group: 'common', doc: 'Normalise scores by a running mean and std before training on them, so the defaults suit rewards of any range (charts show raw scores).', default: true },
  scoreClip: { kind: 'float', group: 'common', doc: 'Clip (normalised) scores to [-scoreClip, scoreClip] before training on them; 0: no clip.', default: 0, min: 0, max: 1000 },
  valueWarmup: { kind: 'int', group: 'ppo', doc: 'Adam steps fitting the value head alone to the first rollout before the first update (0: none): a zero value head makes early advantages favour later tokens.', default: 30, min: 0, max: 500 },
  klCoefMax: { kind: 'float', group: 'ppo', doc: 'Cap on the adaptive beta, so a KL that cannot reach its target cannot blow the losses up.', default: 5, min: 0.01, max: 100 },
  checkpointEvery: { kind: 'int', group: 'common', doc: 'Save the run (policy, optimiser, random streams) every this many iterations, and whenever it pauses: a reload resumes from the last save.', default: 10, min: 1, max: 10000 },
  groupSize: { kind: 'int', group: 'group', doc: 'GRPO, RLOO: completions per prompt that are compared with each other (the group); must divide batchSize.', default: 8, min: 2, max: 64 },
  grpoBeta: { kind: 'float', group: 'grpo', doc: 'GRPO: weight of the per-token k3 KL to the reference in the loss.', default: 0.3, min: 0, max: 10 },
  grpoScale: { kind: 'enum', group: 'grpo', doc: 'GRPO: divide advantages by the std of their group, of the batch, or not at all (Dr. GRPO).', default: 'group', options: ['group', 'batch', 'none'] },
  grpoLossType: { kind: 'enum', group: 'grpo', doc: 'GRPO: how the per-token loss is averaged: per sequence (grpo), per token of the batch (bnpo, dapo), or over B x maxLength (dr_grpo).', default: 'dapo', options: ['grpo', 'bnpo', 'dr_grpo', 'dapo'] },
  rlooBeta: { kind: 'float', group: 'rloo', doc: 'RLOO: weight of the KL to the reference (k1, per completion, see rlooKl) subtracted from the score.', default: 0.3, min: 0, max: 10 },
  rlooKl: { kind: 'enum', group: 'rloo', doc: "RLOO: a completion's KL penalty: its sum over tokens (TRL's), or its mean per token times the batch's mean length (length-neutral: a shorter completion saves no KL).", default: 'mean', options: ['sum', 'mean'] },
  environments: { kind: 'int', group: 'control', doc: 'Control tasks: environments run side by side; each iteration takes batchSize / environments steps in each (must divide batchSize).', default: 4, min: 1, max: 64 },
  rlooNormalizeAdvantages: { kind: 'bool', group: 'rloo', doc: 'RLOO: normalise advantages to zero mean, unit variance over the batch.', default: false },
} as const satisfies Record<string, FieldSpec>;

export type HyperparameterName = keyof typeof HYPERPARAMETERS;
export type Hyperparameters = {
  -readonly [K in HyperparameterName]: (typeof HYPERPARAMETERS)[K] extends { kind: 'enum'; options: readonly (infer O)[] } ? O : (typeof HYPERPARAMETERS)[K]['kind'] extends 'bool' ? boolean : number;
};

export const HYPERPARAMETER_NAMES = Object.keys(HYPERPARAMETERS) as HyperparameterName[];

/** The sandbox limits the hyperparameters set. */
export function sandboxLimits(h: Pick<Hyperparameters, 'rewardTimeLimitMs' | 'rewardMemoryMiB' | 'rewardStackKiB'>): { timeMs: number; memoryBytes: number; stackBytes: number } {
  return { timeMs: h.rewardTimeLimitMs, memoryBytes: h.rewardMemoryMiB * 2 ** 20, stackBytes: h.rewardStackKiB * 1024 };
}

export function defaultHyperparameters(): Hyperparameters {
  const out: Record<string, number | boolean | string> = {};
  for (const name of HYPERPARAMETER_NAMES) out[name] = HYPERPARAMETERS[name].default;
  return out as Hyperparameters;
}

/** A rejected setting; `field` names it so a form can mark it. */
export class HyperparameterError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'HyperparameterError';
  }
}

/** The problem with one value of one field, or null when it is allowed. */
export function checkField(name: HyperparameterName, value: unknown): string | null {
  const spec: FieldSpec = HYPERPARAMETERS[name];
  if (spec.kind === 'bool') return typeof value === 'boolean' ? null : `${name} must be true or false, got ${show(value)}`;
  if (spec.kind === 'enum') return typeof value === 'string' && spec.options.includes(value) ? null : `${name} must be one of ${spec.options.join(', ')}, got ${show(value)}`;
  if (typeof value !== 'number' || !Number.isFinite(value)) return `${name} must be a finite number, got ${show(value)}`;
  if (spec.kind === 'int' && !Number.isInteger(value)) return `${name} must be a whole number, got ${value}`;
  if (value < spec.min || value > spec.max) return `${name} must be between ${spec.min} and ${spec.max}, got ${value}`;
  return null;
}

/**
 * Validates a full or partial set of hyperparameters (missing fields take their
 * defaults). Unknown fields, wrong types and out-of-range values are rejected
 * with an error naming the field.
 */
export function validateHyperparameters(input: unknown): Hyperparameters {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new HyperparameterError('', `hyperparameters must be an object, got ${show(input)}`);
  }
  const out = defaultHyperparameters() as Record<string, number | boolean | string>;
  for (const [key, value] of Object.entries(input)) {
    if (!(key in HYPERPARAMETERS)) throw new HyperparameterError(key, `unknown hyperparameter ${JSON.stringify(key)}`);
    const problem = checkField(key as HyperparameterName, value);
    if (problem) throw new HyperparameterError(key, problem);
    out[key] = value as number | boolean | string;
  }
  const h = out as Hyperparameters;
  if (h.batchSize % h.minibatches !== 0) {
    throw new HyperparameterError('minibatches', `minibatches (${h.minibatches}) must divide batchSize (${h.batchSize})`);
  }
  return h;
}

function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) return String(v);
  return Array.isArray(v) ? 'an array' : typeof v;
}
