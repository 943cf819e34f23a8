// Keeps package-lock.json acceptable to `npm ci` when the registry we install from lacks some
// other-platform binaries (seen here: @rollup/rollup-darwin-*, @turbo/windows-* answer 404).
// `npm install` then leaves those optional dependencies out of the lock, and `npm ci` refuses
// the lock as out of sync. This adds a plain entry (version + optional) for every optional
// dependency the lock names but does not list; npm ci skips or tolerates them as optional.
// Idempotent; prints how many entries it added.
import { readFileSync, writeFileSync } from 'node:fs';

const file = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(file, 'utf8'));
const packages = lock.packages;
let added = 0;
for (const [path, meta] of Object.entries(packages)) {
  for (const [name, version] of Object.entries(meta.optionalDependencies ?? {})) {
    const nested = path ? `${path}/node_modules/${name}` : `node_modules/${name}`;
    const hoisted = `node_modules/${name}`;
    if (packages[nested] || packages[hoisted]) continue;
    packages[hoisted] = { version, ...(meta.dev ? { dev: true } : {}), optional: true };
    added++;
  }
}
if (added) writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`lock-optional-platforms: added ${added} entr${added === 1 ? 'y' : 'ies'}`);
