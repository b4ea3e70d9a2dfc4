import './tfjs.ts'; // first: gradients and chained ops, before any module uses them
import * as Comlink from 'comlink';
import { TrainerHost } from './trainerHost.ts';
import { memoryReport } from './memoryReport.ts';

Comlink.expose(new TrainerHost());
// Read by `npm run bench-browser -- --soak` (and from the console, in the trainer worker's context).
(self as unknown as { rlcfMemory: typeof memoryReport }).rlcfMemory = memoryReport;
