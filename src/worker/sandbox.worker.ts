import releaseSync from '@jitl/quickjs-wasmfile-release-sync';
import wasmLocation from '@jitl/quickjs-wasmfile-release-sync/wasm?url';
import * as Comlink from 'comlink';
import { newQuickJSWASMModuleFromVariant, newVariant } from 'quickjs-emscripten-core';
import { QuickJsModules } from '../core/reward/sandbox/quickjsModules.ts';
import { SandboxHost } from './sandboxHost.ts';

// The QuickJS wasm travels as a separate asset of the build (served from our origin).
const modules = new QuickJsModules(() => newQuickJSWASMModuleFromVariant(newVariant(releaseSync, { wasmLocation })));
Comlink.expose(new SandboxHost(modules));
