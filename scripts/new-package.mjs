// Creates a package with the project's standard layout (DESIGN.md: every package has the
// same files). Usage: node scripts/new-package.mjs <dir-under-packages> "<description>" [--node] [--private]
//   --node     the package is Node-only (no browser build; lint allows node: imports)
//   --private  a workspace-only package that is never published
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const [name, description, ...flags] = process.argv.slice(2);
if (!name || !description) {
  console.error('usage: node scripts/new-package.mjs <name> "<description>" [--node] [--private]');
  process.exit(2);
}
const dir = join('packages', name);
if (existsSync(dir)) {
  console.error(`${dir} exists`);
  process.exit(1);
}
const nodeOnly = flags.includes('--node');
const priv = flags.includes('--private');
for (const sub of ['src', 'test', 'bench']) mkdirSync(join(dir, sub), { recursive: true });
const pkg = {
  name: `@virtio/${name}`,
  version: '0.1.0',
  description,
  license: 'MIT',
  type: 'module',
  ...(priv ? { private: true } : {}),
  sideEffects: false,
  ...(nodeOnly ? { virtio: { runtime: 'node' } } : {}),
  exports: { '.': { types: './dist/index.d.ts', import: './dist/index.js' } },
  files: ['dist', 'README.md'],
  scripts: {
    build: 'rollup -c',
    typecheck: 'tsc -p tsconfig.json --noEmit',
    lint: 'node ../../scripts/lint-package.mjs',
    test: 'vitest run',
  },
  dependencies: {},
};
const write = (f, s) => writeFileSync(join(dir, f), s);
write('package.json', `${JSON.stringify(pkg, null, 2)}\n`);
write('tsconfig.json', `{\n  "extends": "../../tsconfig.base.json",\n  "compilerOptions": { "types": ["node"] },\n  "include": ["src", "test", "bench"]\n}\n`);
write('rollup.config.mjs', `import { packageConfig } from '../../scripts/rollup.package.mjs';\nexport default packageConfig(process.cwd());\n`);
write('vitest.config.ts', `export { default } from '../../vitest.shared';\n`);
write('typedoc.json', `{ "extends": ["../../typedoc.base.json"], "entryPoints": ["src/index.ts"] }\n`);
write('README.md', `# @virtio/${name}\n\n${description}.\n`);
write('src/index.ts', `// Public exports of @virtio/${name}.\nexport {};\n`);
console.log(`created ${dir}`);
