// Compiles the hand-written WebAssembly kernels (src/core/kernels/*.wat) into
// TypeScript modules that carry the binary (src/core/kernels/*Wasm.ts), so the
// app and Node load them with no extra request and no build step of their own.
// A unit test checks that the committed binaries are what this script makes.
//   npm run kernels
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import wabtInit from 'wabt';

export const KERNEL_DIR = path.join('src', 'core', 'kernels');

/** name.wat -> [nameWasm.ts, its source]. */
export async function compileKernels(): Promise<Map<string, string>> {
  const wabt = await wabtInit();
  const out = new Map<string, string>();
  for (const file of readdirSync(KERNEL_DIR).filter((f) => f.endsWith('.wat')).sort()) {
    const mod = wabt.parseWat(file, readFileSync(path.join(KERNEL_DIR, file), 'utf8'), { simd: true });
    try {
      mod.validate();
      const { buffer } = mod.toBinary({});
      const name = file.replace(/\.wat$/, '');
      const constant = `${name.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase()}_WASM`;
      out.set(
        `${name}Wasm.ts`,
        `// Made by scripts/buildKernels.ts from ${file}: do not edit.\n/** The compiled module, base64 (${buffer.length} bytes). */\nexport const ${constant} = '${Buffer.from(buffer).toString('base64')}';\n`,
      );
    } finally {
      mod.destroy();
    }
  }
  return out;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const [file, source] of await compileKernels()) {
    writeFileSync(path.join(KERNEL_DIR, file), source);
    console.log(`wrote ${path.join(KERNEL_DIR, file)}`);
  }
}
