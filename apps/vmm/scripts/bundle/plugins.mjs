// Rollup plugins of the VMM bundle: @virtio/* from the packages' sources (recording every file
// read, for the manifest), worker and file URLs that still resolve inside dist/, and the step
// that turns a finished output directory into dist/<id> and makes it current.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync } from 'node:fs';
import { basename, dirname, extname, join, relative, resolve } from 'node:path';
import { DIST, ROOT, sha256, writeManifest } from './manifest.mjs';

const VIRTIO = /^@virtio\/([a-z0-9-]+)(?:\/([a-z0-9-]+))?$/;

/**
 * Resolves `@virtio/<name>` to packages/<name>/src/index.ts and `@virtio/<name>/<sub>` to
 * packages/<name>/src/<sub>/index.ts (as vitest and tsconfig paths do), and loads every file
 * of the repository itself, recording [mtimeMs, size, SHA-256] in `sources` (paths relative
 * to ROOT), as well as `configFiles` (files that shape the output without being imported).
 * The stat comes before the read, so a file edited during the build shows up as changed at
 * the next check.
 */
export function virtioSources(sources, configFiles) {
  return {
    name: 'virtio-sources',
    buildStart() {
      for (const f of configFiles) record(sources, f);
    },
    resolveId(id) {
      const m = VIRTIO.exec(id);
      if (!m) return null;
      const file = join(ROOT, 'packages', m[1], 'src', m[2] ?? '', 'index.ts');
      if (!existsSync(file)) this.error(`${id}: no ${relative(ROOT, file)}`);
      return file;
    },
    load(id) {
      if (id.startsWith('\0') || id.includes('/node_modules/') || !id.startsWith(ROOT)) return null;
      record(sources, id);
      return readFileSync(id, 'utf8');
    },
  };
}

/** Records a file the build depends on: [mtimeMs, size, SHA-256], stat before read. */
export function record(sources, path) {
  const st = statSync(path);
  sources[relative(ROOT, path)] = [st.mtimeMs, st.size, sha256(readFileSync(path))];
}

const NEW_URL = /new URL\((['"])(\.{1,2}\/[^'"]+)\1,\s*import\.meta\.url\)/g;
const TSX_REGISTER = /import\s*\{\s*register\s*\}\s*from\s*['"]tsx\/esm\/api['"]/;
const DYNAMIC_IMPORT = /await import\((['"])(\.{1,2}\/[^'"]+)\1\)/g;
/** A module of a source tree (ROOT-relative): bundled, where any other file is referenced. */
const SOURCE_MODULE = /^(apps|packages)\/[^/]+\/src\/.*\.(ts|mts|js|mjs)$/;

/**
 * A worker entry of the source tree is a tsx shim: it registers tsx, then imports one
 * TypeScript module. The bundle runs that module directly. Returns its path, or undefined
 * when `file` is not a shim.
 */
function shimTarget(file, sources) {
  const text = readFileSync(file, 'utf8');
  if (!TSX_REGISTER.test(text)) return undefined;
  const targets = [...text.matchAll(DYNAMIC_IMPORT)].map((m) => resolve(dirname(file), m[2]));
  if (targets.length !== 1) throw new Error(`${relative(ROOT, file)}: a tsx worker shim must import exactly one module`);
  record(sources, file);
  return targets[0];
}

/**
 * Rewrites `new URL('<relative>', import.meta.url)` so it resolves from the output file:
 * a module of a src/ tree (a worker entry: `new Worker(new URL(...))`) becomes a chunk of the
 * bundle (a tsx shim is replaced by the module it loads); any other file (e.g.
 * bin/virtio-vmm.mjs) keeps pointing at the same file, relative to where the output chunk
 * lands under `outDir`. A target that does not exist, or a first argument other than a
 * relative string literal, fails the build.
 */
export function relativeUrls(outDir, sources) {
  const files = [];
  return {
    name: 'virtio-relative-urls',
    transform(code, id) {
      if (!code.includes('import.meta.url')) return null;
      let changed = false;
      const out = code.replace(NEW_URL, (_whole, _q, rel) => {
        const target = resolve(dirname(id), rel);
        if (!existsSync(target)) this.error(`${relative(ROOT, id)}: new URL('${rel}') names a missing file`);
        changed = true;
        if (SOURCE_MODULE.test(relative(ROOT, target))) {
          const module = shimTarget(target, sources) ?? target;
          const ref = this.emitFile({ type: 'chunk', id: module, name: basename(module, extname(module)) });
          return `new URL(import.meta.ROLLUP_FILE_URL_${ref})`;
        }
        files.push(target);
        return `new URL(import.meta.VMM_FILE_URL_${files.length - 1})`;
      });
      if (/new URL\([^)]*import\.meta\.url/.test(out)) this.error(`${relative(ROOT, id)}: a new URL(..., import.meta.url) whose first argument is not a './' or '../' string literal cannot be bundled`);
      // Only string literals of one line change: lines stay where the source map has them.
      return changed ? { code: out, map: null } : null;
    },
    resolveImportMeta(property, { chunkId }) {
      const m = /^VMM_FILE_URL_(\d+)$/.exec(property ?? '');
      if (!m) return null;
      const rel = relative(dirname(join(outDir, chunkId)), files[Number(m[1])]);
      return `new URL(${JSON.stringify(rel)}, import.meta.url).href`;
    },
  };
}

/** Build directories not current and older than this are removed (a VMM started from one loads its workers from it). */
const KEEP_MS = 3600_000;

/**
 * After the output is written to `outDir` (a fresh directory under dist/): moves it to
 * dist/<id>, id a hash of the output's content (an identical build already there is kept and
 * reused), writes the manifest naming it with `sources`, and removes old build directories.
 */
export function publish(outDir, sources) {
  return {
    name: 'virtio-publish',
    writeBundle(_options, bundle) {
      const hash = sha256(
        Object.keys(bundle)
          .sort()
          .map((f) => `${f}\0${sha256(bundle[f].type === 'chunk' ? bundle[f].code : bundle[f].source)}`)
          .join('\n'),
      );
      const id = `build-${hash.slice(0, 16)}`;
      const final = join(DIST, id);
      try {
        renameSync(outDir, final);
      } catch (e) {
        if (e.code !== 'ENOTEMPTY' && e.code !== 'EEXIST') throw e;
        rmSync(outDir, { recursive: true, force: true });
        const now = new Date();
        utimesSync(final, now, now);
      }
      const main = Object.values(bundle).find((c) => c.type === 'chunk' && c.isEntry && c.name === 'main');
      writeManifest(id, main.fileName, sources);
      prune(id);
    },
  };
}

function prune(current) {
  const now = Date.now();
  for (const name of readdirSync(DIST)) {
    if (name === current || !(name.startsWith('build-') || name.startsWith('.tmp-'))) continue;
    const dir = join(DIST, name);
    if (now - statSync(dir).mtimeMs > KEEP_MS) rmSync(dir, { recursive: true, force: true });
  }
}

/** A fresh, unique output directory under dist/ for one build. */
export function freshOutDir() {
  mkdirSync(DIST, { recursive: true });
  return join(DIST, `.tmp-${process.pid}-${Date.now().toString(36)}`);
}
