// The QuickJS module for Node (CLI, benchmarks, tests): the same release-sync
// build the browser loads, its wasm read from node_modules.
import releaseSync from '@jitl/quickjs-wasmfile-release-sync';
import { newQuickJSWASMModuleFromVariant } from 'quickjs-emscripten-core';
import { QuickJsModules } from '../src/core/reward/sandbox/quickjsModules.ts';

export const nodeQuickJs = new QuickJsModules(() => newQuickJSWASMModuleFromVariant(releaseSync));
