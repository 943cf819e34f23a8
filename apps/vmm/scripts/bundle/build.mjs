// Builds the VMM bundle (apps/vmm/dist) when it is out of date.
// CLI: node scripts/bundle/build.mjs [--force]   (one line when it builds, nothing when up to date)
import { pathToFileURL } from 'node:url';
import { rollup } from 'rollup';
import { bundleConfig } from './config.mjs';
import { bundleState } from './manifest.mjs';

/** Builds a new bundle and makes it current. @throws the build's error (dist/ keeps the previous bundle). */
export async function buildBundle() {
  const { output, ...input } = bundleConfig();
  const bundle = await rollup({ ...input, onwarn: (w) => process.stderr.write(`virtio-vmm bundle: ${w.message}\n`) });
  try {
    await bundle.write(output);
  } finally {
    await bundle.close();
  }
}

/** Builds in a row before giving up when sources keep changing while they are bundled. */
const ATTEMPTS = 3;

/**
 * Builds the bundle unless it is up to date, saying why in one line through `log`. A source
 * edited during the build makes the result out of date at once: it builds again (3 tries).
 * @returns the absolute path of the bundled CLI entry.
 * @throws the build's error, or when sources changed during every try.
 */
export async function ensureBundle({ log, force = false } = {}) {
  const before = bundleState();
  if (before.fresh && !force) return before.main;
  const t0 = performance.now();
  let after;
  for (let i = 0; i < ATTEMPTS; i++) {
    await buildBundle();
    after = bundleState();
    if (after.fresh) break;
  }
  if (!after.fresh) throw new Error(`sources keep changing during the build (${after.reason})`);
  log?.(`built apps/vmm/dist (${before.fresh ? 'forced' : before.reason}) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return after.main;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    await ensureBundle({ force: process.argv.includes('--force'), log: (line) => console.log(`virtio-vmm: ${line}`) });
  } catch (e) {
    process.stderr.write(`virtio-vmm: bundle build failed: ${e.message}\n`);
    process.exit(1);
  }
}
