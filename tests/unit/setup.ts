import { initNodeBackend } from '../../scripts/nodeBackend.ts';

await initNodeBackend('wasm');
