import './tfjs.ts'; // first: gradients and chained ops, before any module uses them
import * as Comlink from 'comlink';
import { TrainerHost } from './trainerHost.ts';

Comlink.expose(new TrainerHost());
