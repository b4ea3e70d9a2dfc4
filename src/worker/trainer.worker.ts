import * as Comlink from 'comlink';
import { TrainerHost } from './trainerHost.ts';

Comlink.expose(new TrainerHost());
