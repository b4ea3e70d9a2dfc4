import { HYPERPARAMETERS, type Hyperparameters } from '../hyperparameters.ts';
import { getTask } from '../tasks/index.ts';
import type { EXPERIMENT_FIELDS, Experiment } from './experiment.ts';

/**
 * An experiment as Hugging Face TRL runs it: which trainer, and every setting
 * of ours mapped to TRL's name (or said to have no equivalent, and why). The
 * mapping was checked against TRL's source at TRL_VERSION (trl/trainer/
 * grpo_config.py, rloo_config.py, grpo_trainer.py's reward functions).
 */
export const TRL_VERSION = '1.9.0';

/** A setting's row: its TRL name and value, or null with the reason it has none. */
export type TrlRow =
  | { trl: string; value?: (v: never, e: Experiment) => unknown; note?: string }
  | { trl: null; why: string };

const none = (why: string): TrlRow => ({ trl: null, why });
const ppoOnly = none("PPO's critic: TRL trains a PPO experiment with GRPO (see the top of train.py), which has no value model");

/**
 * Every setting of the hyperparameter table, once. A new setting without a row
 * fails the type check here and a unit test.
 */
export const TRL_SETTINGS: { readonly [K in keyof Hyperparameters]: TrlRow } = {
  batchSize: { trl: 'generation_batch_size', note: 'completions per generation round; TRL derives steps_per_generation from it (it may not be set beside it)' },
  minibatches: { trl: 'per_device_train_batch_size', value: (v: number, e: Experiment) => e.hyperparameters.batchSize / v, note: 'batchSize / minibatches completions per optimizer step, so one process takes minibatches steps a round (with N processes, N times fewer)' },
  epochs: { trl: 'num_iterations', note: 'passes over each generation round (TRL reuses the round num_iterations times)' },
  learningRate: { trl: 'learning_rate' },
  clipRange: { trl: 'epsilon' },
  maxGradNorm: { trl: 'max_grad_norm' },
  entropyCoef: { trl: 'entropy_coef', note: "GRPO (and PPO exported as GRPO): the mean per-token entropy's weight, as ours; RLOOConfig has none" },
  temperature: { trl: 'temperature' },
  topK: { trl: 'top_k' },
  maxLength: { trl: 'max_completion_length', note: "tokens of the real model's tokenizer, not characters: our stop token is counted in ours, not in TRL's" },
  groupSize: { trl: 'num_generations' },
  grpoBeta: { trl: 'beta', note: 'GRPO' },
  grpoScale: { trl: 'scale_rewards', note: 'GRPO: group, batch or none, the same options' },
  grpoLossType: { trl: 'loss_type', note: 'GRPO: grpo, bnpo, dr_grpo or dapo, the same options' },
  rlooBeta: { trl: 'beta', note: 'RLOO' },
  rlooNormalizeAdvantages: { trl: 'normalize_advantages', note: 'RLOO' },
  rlooKl: none("TRL's RLOO subtracts the KL summed over a completion's tokens (our 'sum'); the length-neutral 'mean' has no TRL setting"),
  scoreNormalize: none('scores are not normalised by a running mean and std in TRL; GRPO and RLOO normalise within the group instead'),
  scoreClip: none('no clip of normalised scores in TRL (RLOO has reward_clip_range on raw rewards)'),
  targetKl: none('TRL has no early stop of an update on the approximate KL'),
  checkpointEvery: { trl: 'save_steps', value: (v: number, e: Experiment) => v * e.hyperparameters.minibatches * e.hyperparameters.epochs, note: 'in optimizer steps: an iteration of ours is minibatches x epochs of them' },
  rewardTimeLimitMs: { trl: 'reward_bridge --time-limit-ms', note: 'the bridge runs the rewards in the same sandbox, with the same limits' },
  rewardMemoryMiB: { trl: 'reward_bridge --memory-mib', note: 'as above' },
  rewardStackKiB: { trl: 'reward_bridge --stack-kib', note: 'as above' },
  valueClipRange: ppoOnly,
  valueCoef: ppoOnly,
  gamma: ppoOnly,
  gaeLambda: ppoOnly,
  whitenAdvantages: ppoOnly,
  klCoef: { trl: 'beta', note: "PPO's KL coefficient becomes GRPO's beta (a per-token k3 KL in the loss, not a penalty in the reward)" },
  adaptiveKl: none('TRL has no adaptive KL controller for GRPO or RLOO: beta stays at its start value'),
  klTarget: none('no adaptive KL controller in TRL'),
  klHorizon: none('no adaptive KL controller in TRL'),
  klCoefMax: none('no adaptive KL controller in TRL'),
  valueWarmup: ppoOnly,
  environments: none('control tasks are not exported: TRL trains language models'),
};

/** Every field of the experiment, once: where it goes in the export. */
export const TRL_FIELDS: { readonly [K in keyof typeof EXPERIMENT_FIELDS]: string } = {
  version: 'experiment.json keeps the whole experiment, version included',
  task: "the prompt dataset (prompts.jsonl) and the task's fields, computed by the bridge as in the app",
  arch: "not exported: the model is train.py's --model (a real causal LM), whatever the policy here was",
  algorithm: 'the trainer: GRPO as GRPOTrainer, RLOO as RLOOTrainer, PPO as GRPOTrainer (why: the top of train.py)',
  rewards: "reward_bridge.py: one reward function per component (TRL logs each by name) and reward_weights from the weights; the code runs in the app's sandbox",
  hyperparameters: 'the table TRL_SETTINGS, setting by setting',
  seed: 'seed',
  view: 'not exported: how the page is laid out',
  pace: 'not exported: how fast the page trains for a class',
  probes: 'not exported: TRL logs completions itself (log_completions)',
  labels: "not exported: a reward learnt from a person's labels has no code to run; its component is left out (listed in train.py)",
  corpus: "corpus.txt: a corpus task's lines, which the bridge hands the reward server (reward-server --corpus) so that it knows the task",
};

/** The trainer TRL runs an experiment with, and why when it is not the experiment's own. */
export function trlTrainer(e: Experiment): { trainer: 'GRPOTrainer' | 'RLOOTrainer'; config: 'GRPOConfig' | 'RLOOConfig'; why: string | null } {
  if (e.algorithm === 'rloo') return { trainer: 'RLOOTrainer', config: 'RLOOConfig', why: null };
  if (e.algorithm === 'grpo') return { trainer: 'GRPOTrainer', config: 'GRPOConfig', why: null };
  return {
    trainer: 'GRPOTrainer',
    config: 'GRPOConfig',
    why: "PPO here is exported as GRPO: TRL's PPOTrainer (trl.experimental.ppo in 1.9) takes a reward model (an nn.Module), not reward functions, and needs a value model; GRPO runs the same reward code, with beta standing for the KL coefficient.",
  };
}

/** The settings TRL's config gets, in TRL's names, and ours that it does not take. */
export function trlConfig(e: Experiment, iterations: number): { config: Record<string, string | number | boolean>; unmapped: { name: string; value: unknown; why: string }[]; notes: string[] } {
  const task = getTask(e.task);
  if (task.environment) throw new Error(`task ${task.id} is a control task: TRL trains language models, so it cannot be exported`);
  const { trainer } = trlTrainer(e);
  const h = e.hyperparameters;
  const config: Record<string, string | number | boolean> = {};
  const unmapped: { name: string; value: unknown; why: string }[] = [];
  const notes: string[] = [];

  const rlooLacks = new Set(['entropy_coef', 'scale_rewards', 'loss_type']);
  for (const [name, row] of Object.entries(TRL_SETTINGS) as [keyof Hyperparameters, TrlRow][]) {
    const value = h[name];
    const group = HYPERPARAMETERS[name].group;
    // Another algorithm's settings, groups for PPO (GRPO's are set below), control tasks': nothing to map.
    if (((group === 'ppo' || group === 'grpo' || group === 'rloo') && group !== e.algorithm) || (group === 'group' && e.algorithm === 'ppo') || group === 'control') continue;
    if (row.trl === null) {
      unmapped.push({ name, value, why: row.why });
      continue;
    }
    if (row.trl.startsWith('reward_bridge')) continue; // the bridge's own limits (train.py passes them)
    if (trainer === 'RLOOTrainer' && rlooLacks.has(row.trl)) {
      unmapped.push({ name, value, why: `RLOOConfig ${TRL_VERSION} has no ${row.trl}` });
      continue;
    }
    config[row.trl] = (row.value ? row.value(value as never, e) : value) as string | number | boolean;
    if (row.note) notes.push(`${name} -> ${row.trl}: ${row.note}`);
  }
  if (e.algorithm === 'ppo') config.num_generations = Math.min(8, h.batchSize); // PPO has no groups: GRPO needs some (8 completions per prompt)
  config.gradient_accumulation_steps = 1;
  config.max_steps = iterations * h.minibatches * h.epochs;
  config.seed = e.seed;
  config.logging_steps = 1;
  config.log_completions = true;
  return { config, unmapped, notes };
}
