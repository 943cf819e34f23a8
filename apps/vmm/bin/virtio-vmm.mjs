#!/usr/bin/env node
// Runs the TypeScript CLI from source (no build step): Node with tsx's loader, and
// TSX_TSCONFIG_PATH so @virtio/* imports resolve to the sibling packages' src/. Worker
// threads inherit both (execArgv and the environment).
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';

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
