import type { IterationMetrics } from './metrics.ts';

// What a comparison of saved runs can overlay: the same metrics as the live
// charts, each reward component included, read by one key.

export interface CompareMetric {
  key: string;
  title: string;
  pick: (m: IterationMetrics) => number;
}

const FIXED: readonly CompareMetric[] = [
  { key: 'rewardMean', title: 'Mean reward (the trained total)', pick: (m) => m.rewardMean },
  { key: 'kl', title: 'KL to the reference (nats)', pick: (m) => m.kl },
  { key: 'entropy', title: 'Entropy (nats / token)', pick: (m) => m.entropy },
  { key: 'sampleLength', title: 'Completion length (tokens)', pick: (m) => m.sampleLength },
  { key: 'clipFrac', title: 'Clip fraction', pick: (m) => m.clipFrac },
  { key: 'approxKl', title: 'Approx. KL per update', pick: (m) => m.approxKl },
  { key: 'policyLoss', title: 'Policy loss', pick: (m) => m.policyLoss },
  { key: 'valueLoss', title: 'Value loss (PPO)', pick: (m) => m.valueLoss ?? NaN },
];

/** A reward component's key. */
export const componentKey = (name: string) => `component:${name}`;

/** The metrics to offer for runs whose rewards have these component names. */
export function compareMetrics(components: readonly string[]): CompareMetric[] {
  return [
    FIXED[0],
    ...components.map((name) => ({ key: componentKey(name), title: `Component "${name}" (mean, before weights)`, pick: (m: IterationMetrics) => m.rewardComponents[name] ?? NaN })),
    ...FIXED.slice(1),
  ];
}

/** The metric a key names (any component name is one). */
export function compareMetric(key: string): CompareMetric {
  const fixed = FIXED.find((m) => m.key === key);
  if (fixed) return fixed;
  if (key.startsWith('component:')) return compareMetrics([key.slice('component:'.length)])[1];
  throw new Error(`unknown metric "${key}" (use one of ${FIXED.map((m) => m.key).join(', ')}, or component:<name>)`);
}
