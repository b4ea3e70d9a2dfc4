// Compiles the hand-written WebAssembly kernels (src/core/ops/kernels/*.wat) into
// TypeScript modules that carry the binary (src/core/ops/kernels/*Wasm.ts), so the
// app and Node load them with no extra request and no build step of their own.
// A kernel that multiplies-and-adds with relaxed SIMD (f32x4.relaxed_madd) gets
// a second binary, NAME_PLAIN_WASM, with a separate multiply and add, for
// engines without relaxed SIMD. A unit test checks that the committed binaries
// are what this script makes.
//   npm run kernels
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import wabtInit from 'wabt';

export const KERNEL_DIR = path.join('src', 'core', 'ops', 'kernels');

/** name.wat -> [nameWasm.ts, its source]. */
export async function compileKernels(): Promise<Map<string, string>> {
  const wabt = await wabtInit();
  const out = new Map<string, string>();
  for (const file of readdirSync(KERNEL_DIR).filter((f) => f.endsWith('.wat')).sort()) {
    const source = readFileSync(path.join(KERNEL_DIR, file), 'utf8');
    const name = file.replace(/\.wat$/, '');
    const constant = name.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase();
    const lines = [`// Made by scripts/buildKernels.ts from ${file}: do not edit.`];
    const binary = assemble(wabt, file, source);
    lines.push(`/** The compiled module, base64 (${binary.length} bytes). */`, `export const ${constant}_WASM = '${binary.toString('base64')}';`);
    const plain = source.replace(RELAXED_MADD, '(f32x4.add (f32x4.mul $1 $2) $3)');
    if (plain !== source) {
      const fallback = assemble(wabt, file, plain);
      lines.push(`/** The same with a separate multiply and add, for engines without relaxed SIMD (${fallback.length} bytes). */`, `export const ${constant}_PLAIN_WASM = '${fallback.toString('base64')}';`);
    }
    {
      // The same code on a shared memory: tfjs's heap where a second thread works in it (sharedHeap.ts).
      const shared = (text: string) => {
        const out = text.replace(MEMORY_IMPORT, '(import "env" "memory" (memory 0 65536 shared))');
        if (out === text) throw new Error(`${file}: no memory import to share`);
        return assemble(wabt, file, out);
      };
      lines.push(`/** On a shared memory. */`, `export const ${constant}_SHARED_WASM = '${shared(source).toString('base64')}';`);
      if (plain !== source) lines.push(`/** On a shared memory, a separate multiply and add. */`, `export const ${constant}_PLAIN_SHARED_WASM = '${shared(plain).toString('base64')}';`);
    }
    out.set(`${name}Wasm.ts`, lines.join('\n') + '\n');
  }
  return out;
}

const MEMORY_IMPORT = '(import "env" "memory" (memory 0))';

/** `(f32x4.relaxed_madd a b c)` with three local.get operands: a * b + c. */
const RELAXED_MADD = /\(f32x4\.relaxed_madd (\(local\.get \$\w+\)) (\(local\.get \$\w+\)) (\(local\.get \$\w+\))\)/g;

function assemble(wabt: Awaited<ReturnType<typeof wabtInit>>, file: string, source: string): Buffer {
  const features = { simd: true, relaxed_simd: true, bulk_memory: true, threads: true };
  const mod = wabt.parseWat(file, source, features);
  try {
    // validate() takes the features too (its typings leave them out); without them a shared memory fails.
    (mod as unknown as { validate(features: object): void }).validate(features);
    return Buffer.from(mod.toBinary({}).buffer);
  } finally {
    mod.destroy();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const [file, source] of await compileKernels()) {
    writeFileSync(path.join(KERNEL_DIR, file), source);
    console.log(`wrote ${path.join(KERNEL_DIR, file)}`);
  }
}
