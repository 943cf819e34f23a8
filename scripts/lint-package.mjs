// Package lint: runtime-neutral code (everything under src/ except src/node/) must not import
// Node built-ins, so device and transport packages keep running in browsers (DESIGN.md).
// Packages whose package.json sets "virtio": { "runtime": "node" } are Node-only and exempt.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const dir = process.cwd();
const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
if (pkg.virtio?.runtime === 'node') process.exit(0);
const bad = [];
function walk(d) {
  for (const name of readdirSync(d)) {
    const p = join(d, name);
    if (statSync(p).isDirectory()) {
      if (p !== join(dir, 'src', 'node')) walk(p);
    } else if (/\.(ts|mts)$/.test(name)) {
      const text = readFileSync(p, 'utf8');
      for (const m of text.matchAll(/(?:from|import\()\s*['"](node:[^'"]+|fs|path|os|child_process|worker_threads)['"]/g)) {
        bad.push(`${relative(dir, p)}: imports ${m[1]}`);
      }
    }
  }
}
walk(join(dir, 'src'));
if (bad.length) {
  console.error(`${pkg.name}: runtime-neutral code imports Node built-ins:\n  ${bad.join('\n  ')}`);
  process.exit(1);
}
console.log(`${pkg.name}: lint ok`);
