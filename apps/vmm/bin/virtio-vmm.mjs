#!/usr/bin/env node
// Starts the VMM from its prebuilt JavaScript bundle (dist/, scripts/bundle/) in this process
// when the bundle is up to date with every file it was built from. When it is not: rebuilds it
// first (one line on stderr) where dist/ is writable; where it is not (the nested rig's
// read-only view of the host) or the build fails, runs the TypeScript sources through tsx
// instead, saying so in one line. VIRTIO_VMM_TSX=1 always runs the sources through tsx.
import { spawn } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import { constants } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { APP, bundleState } from '../scripts/bundle/manifest.mjs';

function note(line) {
  process.stderr.write(`virtio-vmm: ${line}\n`);
}

/** The bundled CLI entry, rebuilt first if needed and possible; undefined: run the sources. */
async function bundledMain() {
  const state = bundleState();
  if (state.fresh) return state.main;
  try {
    accessSync(APP, fsConstants.W_OK);
  } catch {
    note(`the bundle in apps/vmm/dist is out of date (${state.reason}) and cannot be rebuilt here: running the TypeScript sources through tsx`);
    return undefined;
  }
  note(`the bundle is out of date (${state.reason}): rebuilding apps/vmm/dist`);
  try {
    const { ensureBundle } = await import('../scripts/bundle/build.mjs');
    return await ensureBundle();
  } catch (e) {
    note(`bundle build failed (${String(e.message).split('\n')[0]}): running the TypeScript sources through tsx`);
    return undefined;
  }
}

/**
 * Runs src/cli/main.ts with tsx's loader and TSX_TSCONFIG_PATH (so @virtio/* resolve to the
 * sibling packages' src/) in a child Node; worker threads inherit both.
 */
function runSources() {
  const main = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
  const tsconfig = fileURLToPath(new URL('../tsconfig.json', import.meta.url));
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), main, ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, TSX_TSCONFIG_PATH: tsconfig },
  });
  // The terminal sends SIGINT to the whole process group: the child handles it; we wait.
  process.on('SIGINT', () => undefined);
  for (const sig of ['SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => {
    process.exit(code ?? 128 + (constants.signals[signal] ?? 0));
  });
}

const main = process.env.VIRTIO_VMM_TSX === '1' ? undefined : await bundledMain();
if (main === undefined) runSources();
else await import(pathToFileURL(main).href);
