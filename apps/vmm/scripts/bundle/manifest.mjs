// The bundle's manifest, dist/manifest.json: which build directory under dist/ is current,
// its entry file, and every file the build read (sources of apps/vmm and the @virtio/*
// packages, tsconfigs, this build's own scripts) with the mtime, size and SHA-256 it had when
// read. The bundle is up to date when every one of them still has that content: mtime and
// size equal (one stat each), or, where they differ, the same SHA-256 (a touched file, a
// checkout, a restored cache). Imported by bin/virtio-vmm.mjs on every start: no dependencies.
// Types: manifest.d.mts.
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** apps/vmm/ (absolute, with a trailing slash). */
export const APP = fileURLToPath(new URL('../../', import.meta.url));
/** The monorepo root; manifest paths are relative to it. */
export const ROOT = join(APP, '..', '..');
/** apps/vmm/dist: build directories (one per distinct output) and manifest.json. */
export const DIST = join(APP, 'dist');
const VERSION = 1;

/** SHA-256 hex of a file's bytes or of a string. */
export function sha256(data) {
  return createHash('sha256').update(data).digest('hex');
}

/** The manifest of `dist`, or undefined when there is none (never built) or it is unreadable. */
export function readManifest(dist = DIST) {
  try {
    const m = JSON.parse(readFileSync(join(dist, 'manifest.json'), 'utf8'));
    return m.version === VERSION ? m : undefined;
  } catch {
    return undefined;
  }
}

/** Replaces the manifest of `dist` atomically (write beside it, rename over it). */
export function writeManifest(build, main, sources, dist = DIST) {
  const file = join(dist, 'manifest.json');
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify({ version: VERSION, build, main, sources })}\n`);
  renameSync(tmp, file);
}

/**
 * Whether `dist` holds a bundle built from the sources (paths relative to `root`) as they are now.
 * @returns {{ fresh: true, main: string } | { fresh: false, reason: string }} main: absolute
 *   path of the bundled CLI; reason: a short phrase (`not built`, `packages/core/src/x.ts changed`).
 */
export function bundleState(dist = DIST, root = ROOT) {
  const m = readManifest(dist);
  if (!m) return { fresh: false, reason: 'not built' };
  const main = join(dist, m.build, m.main);
  try {
    statSync(main);
  } catch {
    return { fresh: false, reason: 'not built' };
  }
  for (const [rel, [mtimeMs, size, hash]] of Object.entries(m.sources)) {
    const path = join(root, rel);
    let st;
    try {
      st = statSync(path);
    } catch {
      return { fresh: false, reason: `${rel} removed` };
    }
    if (st.mtimeMs === mtimeMs && st.size === size) continue;
    if (st.size !== size || sha256(readFileSync(path)) !== hash) return { fresh: false, reason: `${rel} changed` };
  }
  return { fresh: true, main };
}
