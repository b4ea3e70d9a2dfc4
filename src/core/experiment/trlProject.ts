import type { Experiment } from './experiment.ts';
import { getTask } from '../tasks/index.ts';
import { hashText } from '../tasks/corpus.ts';
import { TRL_FIELDS, TRL_SETTINGS, TRL_VERSION, trlConfig, trlTrainer } from './trl.ts';

// The project "Export to TRL" writes: train.py (TRL's trainer on the
// experiment's settings), reward_bridge.py (the experiment's reward code, run
// by this project's sandbox through `npm run reward-server`), the prompt
// dataset, accelerate configs for one GPU, several, and DeepSpeed ZeRO-2,
// pinned requirements and a README. Pure: the CLI writes the files to a folder,
// the app packs them into a zip.

/** A small causal LM to start with (any works: train.py's --model). */
export const SUGGESTED_MODEL = 'HuggingFaceTB/SmolLM2-135M';
/** How many rows the prompt dataset has at least (each prompt repeated). */
const MIN_PROMPT_ROWS = 64;

export interface TrlProjectOptions {
  /** Iterations of ours the run lasts (TRL's max_steps = iterations x minibatches x epochs). */
  iterations: number;
  /** Where this project lives on the exporting machine, when known (the CLI): the bridge's default for RLCF_PLAYGROUND. */
  playground?: string | null;
  /** A corpus task's kept lines (corpus.ts): exported as corpus.txt, which the bridge hands the reward server. */
  corpus?: string;
}

/** The export's files by path; throws naming what cannot be exported. */
export function trlProject(e: Experiment, o: TrlProjectOptions): Record<string, string> {
  const task = getTask(e.task);
  if (task.corpus && o.corpus === undefined) throw new Error(`the lines of your corpus "${task.corpus.name}" are needed to export its task (the reward bridge reads them)`);
  if (task.corpus && hashText(o.corpus!) !== task.corpus.hash) throw new Error(`the lines given are not those of the corpus "${task.corpus.name}" the experiment names`);
  const { config, unmapped, notes } = trlConfig(e, o.iterations);
  const { trainer, config: configClass, why } = trlTrainer(e);
  const code = e.rewards.filter((r) => !r.learn);
  const learnt = e.rewards.filter((r) => r.learn);
  if (code.length === 0) throw new Error('every reward component is learnt from preferences: the export runs reward code, and there is none to run');
  const h = e.hyperparameters;
  const prompts = task.prompts.length ? task.prompts : [''];
  const rows: string[] = [];
  for (let i = 0; rows.length < Math.max(MIN_PROMPT_ROWS, prompts.length); i++) {
    const p = prompts[i % prompts.length];
    rows.push(JSON.stringify({ prompt: instruction(task.title, p), task_prompt: p }));
  }
  // The self-test's texts: the task's test-bench text, an empty completion and the prompts themselves.
  const exampleRows = [...new Set([task.benchText, '', ...prompts.filter(Boolean)])].slice(0, 8).map((t) => JSON.stringify({ prompt: prompts[0], text: t }));
  const skipped = [
    ...unmapped.map((u) => `#   ${u.name} = ${JSON.stringify(u.value)}: ${u.why}`),
    ...learnt.map((r) => `#   reward "${r.name}" (learnt from ${r.learn!.from === 'person' ? "a person's labels" : r.learn!.from === 'model' ? "the other policy's labels" : "its judge's labels"}): a reward model of this playground's policy has no code to run; left out`),
    ...(['view', 'pace', 'probes', 'arch'] as const).map((f) => `#   ${f}: ${TRL_FIELDS[f]}`),
  ];
  const settings = Object.entries(config)
    .map(([k, v]) => `    ${JSON.stringify(k)}: ${py(v)},`)
    .join('\n');
  const train = TRAIN_PY.replaceAll('__TRAINER__', trainer)
    .replaceAll('__CONFIG__', configClass)
    .replace('__WHY__', why ? `#\n# ${wrap(why, 76).join('\n# ')}\n` : '')
    .replace('__SKIPPED__', skipped.join('\n'))
    .replace('__NOTES__', notes.map((n) => `#   ${n}`).join('\n'))
    .replace('__SETTINGS__', settings)
    .replace('__MINIBATCHES__', String(h.minibatches))
    .replace('__MODEL__', SUGGESTED_MODEL)
    .replace('__LIMITS__', `["--time-limit-ms", "${h.rewardTimeLimitMs}", "--memory-mib", "${h.rewardMemoryMiB}", "--stack-kib", "${h.rewardStackKiB}"]`)
    .replace('__TASK__', task.title);
  const bridge = BRIDGE_PY.replace('__PLAYGROUND__', o.playground ? JSON.stringify(o.playground) : 'None');
  const weights = code.map((r) => `${r.name} x ${r.weight}`).join(', ');
  return {
    'train.py': train,
    'reward_bridge.py': bridge,
    'experiment.json': JSON.stringify(e, null, 2) + '\n',
    ...(task.corpus ? { 'corpus.txt': o.corpus + '\n' } : {}),
    'prompts.jsonl': rows.join('\n') + '\n',
    'examples.jsonl': exampleRows.join('\n') + '\n',
    'requirements.txt': `trl==${TRL_VERSION}\naccelerate>=1.4.0\ndatasets>=4.7.0\ntransformers>=4.56.2,!=5.1.0\n# for accelerate/deepspeed_zero2.yaml:\n# deepspeed>=0.14.4\n`,
    'accelerate/single_gpu.yaml': ACCELERATE.replace('__TYPE__', '"NO"').replace('__PROCESSES__', '1'),
    'accelerate/multi_gpu.yaml': ACCELERATE.replace('__TYPE__', 'MULTI_GPU').replace('__PROCESSES__', '8  # one per GPU'),
    'accelerate/deepspeed_zero2.yaml': ACCELERATE.replace('distributed_type: __TYPE__\n', 'deepspeed_config:\n  deepspeed_multinode_launcher: standard\n  offload_optimizer_device: none\n  offload_param_device: none\n  zero3_init_flag: false\n  zero_stage: 2\ndistributed_type: DEEPSPEED\n').replace('__PROCESSES__', '8  # one per GPU'),
    'README.md': readme(e, { trainer, why, weights, learnt: learnt.map((r) => r.name), iterations: o.iterations, maxSteps: Number(config.max_steps) }),
  };
}

/** What the real model is asked: the task in words, then the prompt it continues (the reward sees only what it writes). */
function instruction(title: string, prompt: string): string {
  return `${title}. Write one, on one line:\n${prompt}`;
}

function py(v: string | number | boolean): string {
  return typeof v === 'boolean' ? (v ? 'True' : 'False') : JSON.stringify(v);
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

/** The table the export was made with, as README shows it. */
export function trlTable(): string {
  const rows = Object.entries(TRL_SETTINGS).map(([name, r]) => `| \`${name}\` | ${r.trl !== null ? `\`${r.trl}\` | ${r.note ?? ''}` : `(none) | ${r.why}`} |`);
  return ['| ours | TRL | note |', '|---|---|---|', ...rows].join('\n');
}

function readme(e: Experiment, o: { trainer: string; why: string | null; weights: string; learnt: string[]; iterations: number; maxSteps: number }): string {
  const task = getTask(e.task);
  return `# ${task.title}: ${e.algorithm.toUpperCase()} in TRL

Exported by RLCF Playground: the experiment (\`experiment.json\`) as a TRL ${TRL_VERSION}
project. \`train.py\` runs \`${o.trainer}\` on a real causal language model with the
same reward code: ${o.weights}.${o.why ? `\n\n${o.why}` : ''}${o.learnt.length ? `\n\nLeft out: ${o.learnt.map((n) => `"${n}"`).join(', ')}, learnt from preferences in the playground (a reward model of its own small policy, with no code to run).` : ''}

## Run it

1. The reward runs in the playground's sandbox: keep a copy of RLCF Playground
   with its packages installed (\`npm install\` in its folder) and Node 20 or later,
   and point the bridge at it: \`export RLCF_PLAYGROUND=/path/to/rlcf-playground\`.
   Check it: \`python3 reward_bridge.py --selftest\` prints one JSON line per
   example text with its total and each component.
2. \`pip install -r requirements.txt\` (TRL is pinned to the version the settings
   were mapped against).
3. One GPU: \`accelerate launch --config_file accelerate/single_gpu.yaml train.py\`.
   Several: \`accelerate launch --config_file accelerate/multi_gpu.yaml train.py\`
   (set \`num_processes\` to your GPU count), or \`accelerate/deepspeed_zero2.yaml\`
   (with \`pip install deepspeed\`). The same script scales out; each process runs
   its own bridge.
4. \`--model\` picks the model (default \`${SUGGESTED_MODEL}\`); \`--max-steps\`
   the length (default ${o.maxSteps} optimizer steps: ${o.iterations} iterations of the
   playground, each minibatches x epochs steps).

## What changes with a real model

- Its tokenizer is not the playground's: the playground's policies write one
  character a token from a small alphabet; a real model writes subword tokens
  from a vocabulary of tens of thousands. The reward reads **text**, so the same
  code scores it, but \`sample.tokens\` holds only the characters the playground's
  task knows, and \`max_completion_length\` counts the real tokenizer's tokens.
- The model is asked the task in words (\`prompts.jsonl\`: "${task.title}. Write one,
  on one line:" and the task's prompt); the reward sees the task's prompt
  (\`task_prompt\`) and the completion up to its first line break, as the
  playground's policies stop at their stop token. Pass \`--keep-newlines\` to the
  bridge to score the whole completion.
- The task's fields (a classifier's score, tests passed) are computed by the
  bridge as in the app, from the same code.
- Settings with no TRL equivalent are listed at the top of \`train.py\`.

## Files

- \`train.py\`: ${o.trainer} with every mapped setting; \`reward_bridge.py\`: the
  reward functions TRL calls, one per component (TRL logs each by name), with
  \`reward_weights\` from the experiment's weights.
- \`experiment.json\`: the whole experiment (the playground opens it again:
  Import, or \`npm run train -- --experiment experiment.json\`).
- \`prompts.jsonl\`, \`examples.jsonl\`: the prompt dataset; the self-test's texts.
- \`accelerate/\`: one GPU, several, DeepSpeed ZeRO-2.
`;
}

const ACCELERATE = `compute_environment: LOCAL_MACHINE
debug: false
distributed_type: __TYPE__
downcast_bf16: 'no'
gpu_ids: all
machine_rank: 0
main_training_function: main
mixed_precision: 'bf16'
num_machines: 1
num_processes: __PROCESSES__
rdzv_backend: static
same_network: true
tpu_env: []
tpu_use_cluster: false
tpu_use_sudo: false
use_cpu: false
`;

const TRAIN_PY = String.raw`#!/usr/bin/env python3
# __TASK__: the RLCF Playground experiment in experiment.json, trained with
# TRL's __TRAINER__ on a real causal language model, on the same reward code
# (reward_bridge.py runs it in the playground's sandbox).
__WHY__#
# Settings of the playground with no TRL equivalent (not applied):
__SKIPPED__
#
# How the mapped ones translate:
__NOTES__
import argparse
import os

from datasets import load_dataset
from trl import __CONFIG__, __TRAINER__

from reward_bridge import RewardBridge

HERE = os.path.dirname(os.path.abspath(__file__))

# The experiment's settings in TRL's names (RLCF Playground's table
# src/core/experiment/trl.ts, checked against TRL's source at the pinned version).
SETTINGS = {
__SETTINGS__
}
# Our iteration takes this many optimizer steps a generation round on one process.
MINIBATCHES = __MINIBATCHES__
# The sandbox's limits, as in the playground.
LIMITS = __LIMITS__


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="__MODEL__", help="a causal LM on the Hugging Face Hub or a local folder")
    parser.add_argument("--output-dir", default=os.path.join(HERE, "output"))
    parser.add_argument("--max-steps", type=int, default=SETTINGS["max_steps"], help="optimizer steps")
    parser.add_argument("--keep-newlines", action="store_true", help="score whole completions, not their first line")
    args = parser.parse_args()

    settings = dict(SETTINGS, max_steps=args.max_steps)
    # With several processes the generation round is shared: each takes its part of every step.
    world = int(os.environ.get("WORLD_SIZE", "1"))
    settings["per_device_train_batch_size"] = max(1, settings["generation_batch_size"] // (MINIBATCHES * world))

    dataset = load_dataset("json", data_files=os.path.join(HERE, "prompts.jsonl"), split="train")
    bridge = RewardBridge(extra_args=LIMITS + (["--keep-newlines"] if args.keep_newlines else []))
    try:
        config = __CONFIG__(output_dir=args.output_dir, reward_weights=bridge.weights(), **settings)
        trainer = __TRAINER__(model=args.model, reward_funcs=bridge.reward_functions(), args=config, train_dataset=dataset)
        trainer.train()
        trainer.save_model(args.output_dir)
    finally:
        bridge.close()


if __name__ == "__main__":
    main()
`;

const BRIDGE_PY = String.raw`#!/usr/bin/env python3
"""The experiment's reward for TRL, run by RLCF Playground's sandbox.

The reward components are the experiment's JavaScript, run in the same QuickJS
sandbox, with the same limits and the task's fields, as in the playground:
"npm run reward-server" in the playground's folder reads batches as JSON lines
on stdin and answers one line each. Python's standard library only.

    python3 reward_bridge.py --selftest     # scores examples.jsonl, one JSON line per text
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
# Where the playground was when this was exported from its command line (None from the app).
DEFAULT_PLAYGROUND = __PLAYGROUND__


class RewardBridgeError(RuntimeError):
    """A reward component failed on a batch; component names it."""

    def __init__(self, message, component=None):
        super().__init__(message)
        self.component = component


class RewardBridge:
    """One reward server (a Node process) and the reward functions TRL calls."""

    def __init__(self, experiment=None, playground=None, extra_args=()):
        playground = playground or os.environ.get("RLCF_PLAYGROUND") or DEFAULT_PLAYGROUND
        if not playground or not os.path.isdir(playground):
            raise RewardBridgeError(
                "set RLCF_PLAYGROUND to the folder of RLCF Playground (where npm install was run); got %r" % (playground,)
            )
        npm = shutil.which("npm")
        if npm is None:
            raise RewardBridgeError("npm (Node 20 or later) is needed to run the reward code, and it is not on PATH")
        experiment = os.path.abspath(experiment or os.path.join(HERE, "experiment.json"))
        command = [npm, "run", "--silent", "--prefix", playground, "reward-server", "--", "--experiment", experiment]
        # A task made from a person's corpus: its lines travel beside the experiment.
        corpus = os.path.join(os.path.dirname(experiment), "corpus.txt")
        if os.path.exists(corpus):
            command += ["--corpus", corpus]
        self._proc = subprocess.Popen(
            command + list(extra_args), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1
        )
        self._lock = threading.Lock()
        self._next = 0
        self._cache = (None, None)
        hello = self._read()
        if "error" in hello:
            raise RewardBridgeError(hello["error"], hello.get("component"))
        self.components = hello["components"]

    def _read(self):
        line = self._proc.stdout.readline()
        if not line:
            raise RewardBridgeError("the reward server stopped (its output above says why)")
        return json.loads(line)

    def score(self, prompts, completions):
        """Scores a batch: {"total": [...], "components": {name: [...]}}."""
        with self._lock:
            self._next += 1
            request = {"id": self._next, "prompts": list(prompts), "completions": list(completions)}
            self._proc.stdin.write(json.dumps(request) + "\n")
            self._proc.stdin.flush()
            answer = self._read()
        if "error" in answer:
            raise RewardBridgeError(answer["error"], answer.get("component"))
        return answer

    def weights(self):
        return [c["weight"] for c in self.components]

    def reward_functions(self):
        """One function per component, named as the component (TRL logs rewards/<name>): a batch is scored once for all of them."""
        functions = []
        for component in self.components:
            functions.append(self._function(component["name"]))
        return functions

    def _function(self, name):
        def reward(prompts=None, completions=None, task_prompt=None, **kwargs):
            texts = [_text(c) for c in completions]
            ours = list(task_prompt) if task_prompt is not None else [_text(p) for p in prompts]
            key = (tuple(ours), tuple(texts))
            if self._cache[0] != key:
                self._cache = (key, self.score(ours, texts))
            return [float(v) for v in self._cache[1]["components"][name]]

        reward.__name__ = name
        return reward

    def close(self):
        if self._proc.poll() is None:
            self._proc.stdin.close()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _text(x):
    """A completion or prompt as text: a plain string, or a conversation's last message."""
    if isinstance(x, str):
        return x
    if isinstance(x, list) and x and isinstance(x[-1], dict):
        return str(x[-1].get("content", ""))
    return str(x)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--selftest", action="store_true", help="score examples.jsonl and print one JSON line per text")
    parser.add_argument("--experiment", default=os.path.join(HERE, "experiment.json"))
    parser.add_argument("--examples", default=os.path.join(HERE, "examples.jsonl"))
    parser.add_argument("--playground", default=None)
    args, extra = parser.parse_known_args()
    if not args.selftest:
        parser.print_help()
        return 0
    with open(args.examples, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    try:
        with RewardBridge(args.experiment, args.playground, extra) as bridge:
            scored = bridge.score([r.get("prompt", "") for r in rows], [r["text"] for r in rows])
    except RewardBridgeError as e:
        print("reward_bridge: %s" % e, file=sys.stderr)
        return 1
    for i, row in enumerate(rows):
        line = {"text": row["text"], "total": scored["total"][i]}
        for name, values in scored["components"].items():
            line[name] = values[i]
        print(json.dumps(line))
    return 0


if __name__ == "__main__":
    sys.exit(main())
`;
