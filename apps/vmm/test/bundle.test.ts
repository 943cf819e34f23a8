// The prebuilt bundle run by bin/virtio-vmm.mjs (built by this package's vitest globalSetup):
// its URLs resolve inside dist/, it loads nothing through tsx, and the freshness check never
// takes a changed source for an unchanged one.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bundleState, DIST, readManifest, sha256, writeManifest } from '../scripts/bundle/manifest.mjs';

describe('the bundle in dist/', () => {
  const m = readManifest();
  const dir = join(DIST, m?.build ?? 'missing');
  const files = m ? readdirSync(dir).filter((f) => f.endsWith('.js')) : [];
  const code = (f: string) => readFileSync(join(dir, f), 'utf8');

  it('is current (the globalSetup built it) and lists the sources of apps/vmm and the packages it imports', () => {
    expect(bundleState()).toEqual({ fresh: true, main: join(dir, 'main.js') });
    const sources = Object.keys(m!.sources);
    for (const f of ['apps/vmm/src/cli/main.ts', 'apps/vmm/src/vcpu/worker.ts', 'apps/vmm/src/virtio/device-worker.ts', 'apps/vmm/src/virtio/notifier.ts', 'packages/kvm/src/index.ts', 'tsconfig.base.json']) {
      expect(sources).toContain(f);
    }
  });

  it('resolves every new URL(..., import.meta.url) to an existing file: the three worker chunks and the bin', () => {
    const targets = files.flatMap((f) => [...code(f).matchAll(/new URL\((["'])([^"']+)\1, import\.meta\.url\)/g)].map((x) => join(dir, x[2])));
    for (const t of targets) expect(statSync(t).isFile(), t).toBe(true);
    const workers = targets.filter((t) => dirname(t) === dir).map((t) => t.slice(dir.length + 1).replace(/-[\w-]{8}\.js$/, ''));
    expect(workers.sort()).toEqual(['device-worker', 'notifier', 'worker']);
    expect(targets.some((t) => t.endsWith('/apps/vmm/bin/virtio-vmm.mjs'))).toBe(true);
  });

  it('imports only Node built-ins, koffi and commander from outside the bundle (no tsx, no TypeScript)', () => {
    const specifiers = new Set(files.flatMap((f) => [...code(f).matchAll(/\bfrom\s*['"]([^'"]+)['"]|\bimport\s*\(?\s*['"]([^'"]+)['"]/g)].map((x) => x[1] ?? x[2])));
    const outside = [...specifiers].filter((s) => !s.startsWith('./'));
    expect(outside.length).toBeGreaterThan(0);
    for (const s of outside) expect(s, s).toMatch(/^(node:[a-z_/]+|koffi|commander)$/);
    for (const f of files) expect(code(f), f).not.toMatch(/\.ts['"]/);
  });
});

describe('the freshness check', () => {
  let root: string;
  const dist = () => join(root, 'dist');
  const write = (rel: string, text: string) => {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), text);
  };
  const built = (...rels: string[]) => {
    mkdirSync(join(dist(), 'build-1'), { recursive: true });
    writeFileSync(join(dist(), 'build-1', 'main.js'), '');
    const sources: Record<string, [number, number, string]> = {};
    for (const rel of rels) {
      const st = statSync(join(root, rel));
      sources[rel] = [st.mtimeMs, st.size, sha256(readFileSync(join(root, rel)))];
    }
    writeManifest('build-1', 'main.js', sources, dist());
  };
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('is up to date after a build, and after a touch or a rewrite that leaves the content alone', () => {
    root = mkdtempSync(join(tmpdir(), 'vmm-bundle-'));
    write('src/a.ts', 'export const a = 1;\n');
    write('src/b.ts', 'export const b = 2;\n');
    built('src/a.ts', 'src/b.ts');
    expect(bundleState(dist(), root)).toEqual({ fresh: true, main: join(dist(), 'build-1', 'main.js') });
    const later = new Date(Date.now() + 5000);
    utimesSync(join(root, 'src/a.ts'), later, later);
    write('src/b.ts', 'export const b = 2;\n');
    expect(bundleState(dist(), root).fresh).toBe(true);
  });

  it('is out of date when a source changes, even with the same size and an older mtime, or is removed', () => {
    root = mkdtempSync(join(tmpdir(), 'vmm-bundle-'));
    write('src/a.ts', 'export const a = 1;\n');
    write('src/b.ts', 'export const b = 2;\n');
    built('src/a.ts', 'src/b.ts');
    write('src/a.ts', 'export const a = 7;\n');
    const earlier = new Date(Date.now() - 3600_000);
    utimesSync(join(root, 'src/a.ts'), earlier, earlier);
    expect(bundleState(dist(), root)).toEqual({ fresh: false, reason: 'src/a.ts changed' });
    write('src/a.ts', 'export const a = 1;\n');
    expect(bundleState(dist(), root).fresh).toBe(true);
    write('src/b.ts', 'export const b = 22;\n');
    expect(bundleState(dist(), root)).toEqual({ fresh: false, reason: 'src/b.ts changed' });
    rmSync(join(root, 'src/b.ts'));
    expect(bundleState(dist(), root)).toEqual({ fresh: false, reason: 'src/b.ts removed' });
  });

  it('is "not built" without a manifest or without the build directory the manifest names', () => {
    root = mkdtempSync(join(tmpdir(), 'vmm-bundle-'));
    expect(bundleState(dist(), root)).toEqual({ fresh: false, reason: 'not built' });
    write('src/a.ts', 'export const a = 1;\n');
    built('src/a.ts');
    rmSync(join(dist(), 'build-1'), { recursive: true });
    expect(bundleState(dist(), root)).toEqual({ fresh: false, reason: 'not built' });
  });
});
