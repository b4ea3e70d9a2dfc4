/**
 * What each chart measures, what a healthy run looks like on it and what
 * trouble looks like: the text behind each chart's "?". Written for a class
 * watching a run, with the numbers this playground's runs show.
 */
export interface ChartHelp {
  measures: string;
  healthy: string;
  trouble: string;
}

export const CHART_HELP = {
  reward: {
    measures: 'The mean reward of each iteration\'s samples (the line, smoothed by the slider) and the lowest and highest (the band). This is what training pushes up.',
    healthy: 'The line climbs, fast at first, then levels off; the band narrows as the policy settles on what scores well.',
    trouble: 'A line that climbs while the samples turn strange (very short, repeated, unreadable) is reward hacking: read the samples, and watch the KL chart. A flat line after many iterations means the reward barely tells samples apart.',
  },
  episodeReturn: {
    measures: 'The mean return (sum of rewards) of the episodes that ended in each iteration, with the lowest and highest.',
    healthy: 'The return climbs as the pole stays up longer; with the default reward it tracks the episode length.',
    trouble: 'A return that rises while episodes get shorter means the reward pays for something other than balancing.',
  },
  episodeLength: {
    measures: 'How many steps the episodes that ended in each iteration lasted.',
    healthy: 'Lengths grow towards 500, the most an episode runs; 195 counts as solved.',
    trouble: 'Lengths stuck near 10-20 after many iterations: the reward does not favour staying up, or the learning rate is too low.',
  },
  components: {
    measures: 'Each reward component\'s mean, before its weight: which part of the reward the policy is improving.',
    healthy: 'The components you care about rise; a cost component (length, say) settles at a level you accept.',
    trouble: 'One component rises while another collapses: the policy trades one for the other; adjust the weights.',
  },
  kl: {
    measures: 'How far the policy has moved from the reference policy it started as, in nats per completion (the KL divergence); beta, on the right axis, is the weight of the penalty that holds it back.',
    healthy: 'KL rises slowly to a few nats and stays near its target (PPO\'s dashed line); beta moves to hold it there.',
    trouble: 'KL running away (tens of nats and climbing) means the policy is leaving language it knew: lower the learning rate or raise the KL coefficient. The runaway alarm fires on it.',
  },
  entropy: {
    measures: 'How uncertain the policy is about its next token (or action), in nats: high is varied sampling, low is always the same choice.',
    healthy: 'Entropy falls slowly as the policy learns what scores well, and stays well above zero.',
    trouble: 'Entropy collapsing towards zero: the policy writes one thing over and over and stops exploring. Entropy rising far above the start: the policy is turning to noise.',
  },
  losses: {
    measures: 'The policy loss the update minimises (and, for PPO, the value loss of the critic that predicts returns, on the right axis).',
    healthy: 'The policy loss hovers near zero (it is relative to each batch, so it does not fall like a supervised loss); the value loss falls, then stays low.',
    trouble: 'A value loss exploding by orders of magnitude means the critic cannot follow the returns: the run is likely running away.',
  },
  clip: {
    measures: 'The clip fraction: the share of samples whose probability ratio went past the clip range, so the update ignored them; approx. KL, on the right axis: how far one update moved the policy. Under GRPO and RLOO, equal groups are the share of groups whose completions all scored the same: they teach nothing.',
    healthy: 'A clip fraction of 0-0.2 and a small approx. KL: each update takes a careful step.',
    trouble: 'A clip fraction above 0.3 for many iterations means the steps are too big: lower the learning rate or the epochs. A spike at iteration 1 alone is normal.',
  },
  speed: {
    measures: 'Tokens sampled per second, and the milliseconds each iteration took in all and in scoring (the reward code) alone.',
    healthy: 'Flat lines: each iteration costs about the same.',
    trouble: 'Reward time climbing means the reward code is slow (see its limits in the settings); iteration time creeping up over a long run is worth reporting.',
  },
} as const satisfies Record<string, ChartHelp>;

export type ChartHelpKey = keyof typeof CHART_HELP;
