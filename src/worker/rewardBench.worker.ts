import * as Comlink from 'comlink';
import { RewardBench } from './rewardBench.ts';

Comlink.expose(new RewardBench());
