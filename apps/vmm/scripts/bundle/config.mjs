// The rollup configuration of the VMM bundle: src/cli/main.ts, the worker threads it starts
// and the @virtio/* packages they import (from source) as plain ESM JavaScript in
// dist/build-<id>/; Node built-ins and npm dependencies (koffi, commander) stay external and
// load from node_modules.
import { existsSync, readdirSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import esbuild from 'rollup-plugin-esbuild';
import { APP, ROOT } from './manifest.mjs';
import { freshOutDir, publish, relativeUrls, virtioSources } from './plugins.mjs';

const BUILTINS = new Set(builtinModules);

/** Bare specifiers other than @virtio/* (npm dependencies) and Node built-ins stay imports. */
function external(id) {
  if (id.startsWith('node:') || BUILTINS.has(id)) return true;
  return !id.startsWith('@virtio/') && !id.startsWith('.') && !id.startsWith('/') && !id.startsWith('\0');
}

/** Files that shape the output although no module imports them. */
const CONFIG_FILES = [
  fileURLToPath(import.meta.url),
  fileURLToPath(new URL('./plugins.mjs', import.meta.url)),
  fileURLToPath(new URL('./manifest.mjs', import.meta.url)),
  join(ROOT, 'tsconfig.base.json'),
  join(APP, 'tsconfig.json'),
];

/** A rollup configuration (input options plus `output`) writing one new build. */
export function bundleConfig() {
  const outDir = freshOutDir();
  const sources = {};
  return {
    input: { main: join(APP, 'src/cli/main.ts') },
    external,
    plugins: [
      virtioSources(sources, configFiles()),
      // Each module is compiled with its nearest tsconfig.json (recorded by configFiles()).
      esbuild({ target: 'node20', sourceMap: true }),
      relativeUrls(outDir, sources),
      publish(outDir, sources),
    ],
    output: {
      dir: outDir,
      format: 'es',
      sourcemap: true,
      entryFileNames: '[name].js',
      chunkFileNames: '[name]-[hash].js',
    },
  };
}

/** The configuration files of the build and every package's tsconfig.json (esbuild reads a module's nearest one). */
function configFiles() {
  const tsconfigs = readdirSync(join(ROOT, 'packages'))
    .map((name) => join(ROOT, 'packages', name, 'tsconfig.json'))
    .filter((f) => existsSync(f));
  return [...CONFIG_FILES, ...tsconfigs];
}
