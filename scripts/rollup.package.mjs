// One rollup configuration for every package: each entry of the package's `exports` map
// (".", "./node", ...) is built from src/<entry>/index.ts to ESM JavaScript and a bundled
// .d.ts. Dependencies, @virtio/* siblings and node: builtins stay external.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import esbuild from 'rollup-plugin-esbuild';
import dts from 'rollup-plugin-dts';

export function packageConfig(dir) {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const deps = Object.keys({ ...pkg.dependencies, ...pkg.peerDependencies });
  const external = (id) =>
    id.startsWith('node:') || id.startsWith('@virtio/') || deps.some((d) => id === d || id.startsWith(`${d}/`));
  const input = {};
  for (const key of Object.keys(pkg.exports ?? { '.': null })) {
    if (key === './package.json') continue;
    const name = key === '.' ? 'index' : key.slice(2);
    input[name] = key === '.' ? 'src/index.ts' : `src/${name}/index.ts`;
  }
  return [
    {
      input,
      external,
      output: { dir: 'dist', format: 'es', sourcemap: true, entryFileNames: '[name].js', chunkFileNames: 'chunks/[name]-[hash].js' },
      plugins: [esbuild({ target: 'es2022', tsconfig: join(dir, 'tsconfig.json') })],
    },
    {
      input,
      external,
      output: { dir: 'dist', format: 'es', entryFileNames: '[name].d.ts', chunkFileNames: 'chunks/[name]-[hash].d.ts' },
      plugins: [dts({ tsconfig: join(dir, 'tsconfig.json') })],
    },
  ];
}
