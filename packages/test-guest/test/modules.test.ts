import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ElfError, readSection } from '../src/elf/index.js';
import { ModuleTree, modulesDep, parseModinfo, readModinfo, resolveModules, type ModuleLookup } from '../src/modules/index.js';
import { elfWithSections, fakeModule } from './fixtures/elf.js';

const enc = new TextEncoder();

// The shape of Debian 6.1's real dependency graph for the rig's and guest's modules.
const GRAPH: Record<string, string[]> = {
  virtio: [],
  virtio_ring: [],
  virtio_pci_modern_dev: [],
  virtio_pci_legacy_dev: [],
  virtio_pci: ['virtio_pci_modern_dev', 'virtio_ring', 'virtio', 'virtio_pci_legacy_dev'],
  failover: [],
  net_failover: ['failover'],
  virtio_net: ['virtio_ring', 'virtio', 'net_failover'],
  virtio_rng: ['virtio_ring', 'virtio'],
  irqbypass: [],
  ccp: [],
  kvm: ['irqbypass'],
  kvm_amd: ['kvm', 'ccp'],
};
const BUILTIN = new Set(['rng_core']);
const lookup = (name: string): ModuleLookup =>
  GRAPH[name] ? { kind: 'module', path: `kernel/${name}.ko`, depends: GRAPH[name] } : BUILTIN.has(name) ? { kind: 'builtin' } : undefined;

describe('modinfo', () => {
  it('parses name and depends from the NUL-separated .modinfo strings', () => {
    const info = parseModinfo(enc.encode('alias=cpu:type:x86\0depends=kvm,ccp\0name=kvm_amd\0parm=npt:bool\0parm=avic:bool\0'), 'x');
    expect(info.name).toBe('kvm_amd');
    expect(info.depends).toEqual(['kvm', 'ccp']);
    expect(info.fields.get('parm')).toEqual(['npt:bool', 'avic:bool']);
  });

  it('treats an empty depends= as no dependencies and falls back to the file name without name=', () => {
    const info = parseModinfo(enc.encode('depends=\0license=GPL\0'), 'virtio-rng');
    expect(info.depends).toEqual([]);
    expect(info.name).toBe('virtio_rng');
  });

  it('reads .modinfo out of a module ELF file', () => {
    const info = readModinfo(fakeModule('9pnet_virtio', ['9pnet', 'virtio_ring', 'virtio']), 'x');
    expect(info).toMatchObject({ name: '9pnet_virtio', depends: ['9pnet', 'virtio_ring', 'virtio'] });
  });

  it('throws ElfError for non-ELF or truncated files rather than reading outside them', () => {
    expect(() => readSection(enc.encode('not an elf at all, just text padding padding padding padding'), '.modinfo')).toThrow(ElfError);
    const elf = fakeModule('a', []);
    expect(() => readSection(elf.subarray(0, elf.length - 40), '.modinfo')).toThrow(ElfError);
    expect(() => readModinfo(elfWithSections([{ name: '.text', data: 'x' }]), 'a')).toThrow(/no .modinfo/);
  });
});

describe('module dependency resolution', () => {
  it('orders every module after its dependencies, each once, and reports built-ins', () => {
    const r = resolveModules(['virtio_pci', 'virtio_net', 'virtio-rng', 'rng-core', 'kvm-amd'], lookup);
    const names = r.order.map((m) => m.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names.sort()).toEqual(
      ['virtio', 'virtio_ring', 'virtio_pci_modern_dev', 'virtio_pci_legacy_dev', 'virtio_pci', 'failover', 'net_failover', 'virtio_net', 'virtio_rng', 'irqbypass', 'ccp', 'kvm', 'kvm_amd'].sort(),
    );
    const order = r.order.map((m) => m.name);
    for (const m of r.order) for (const d of m.depends) expect(order.indexOf(d)).toBeLessThan(order.indexOf(m.name));
    expect(r.builtin).toEqual(['rng_core']);
  });

  it('names missing modules and who needs them', () => {
    const broken = (n: string): ModuleLookup => (n === 'net_failover' ? undefined : lookup(n));
    expect(() => resolveModules(['virtio_net', 'nosuch'], broken)).toThrow('kernel modules not found: net_failover (needed by virtio_net), nosuch');
  });

  it('detects dependency cycles', () => {
    const cyclic = (n: string): ModuleLookup => ({ kind: 'module', path: `${n}.ko`, depends: n === 'a' ? ['b'] : ['a'] });
    expect(() => resolveModules(['a'], cyclic)).toThrow('module dependency cycle: a -> b -> a');
  });

  it('writes modules.dep in depmod format with transitive dependencies', () => {
    const dep = modulesDep(resolveModules(['kvm_amd'], lookup));
    expect(dep).toBe(
      ['kernel/irqbypass.ko:', 'kernel/kvm.ko: kernel/irqbypass.ko', 'kernel/ccp.ko:', 'kernel/kvm_amd.ko: kernel/ccp.ko kernel/kvm.ko kernel/irqbypass.ko', ''].join('\n'),
    );
  });
});

describe('module tree of an unpacked kernel', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tg-mods-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'kernel/drivers/virtio'), { recursive: true });
  mkdirSync(join(dir, 'kernel/drivers/char/hw_random'), { recursive: true });
  writeFileSync(join(dir, 'kernel/drivers/virtio/virtio.ko'), fakeModule('virtio', []));
  writeFileSync(join(dir, 'kernel/drivers/virtio/virtio_ring.ko'), fakeModule('virtio_ring', []));
  const rng = fakeModule('virtio_rng', ['virtio_ring', 'virtio', 'rng_core']);
  writeFileSync(join(dir, 'kernel/drivers/char/hw_random/virtio-rng.ko.xz'), execFileSync('xz', ['-c', '--check=crc32'], { input: rng }));
  writeFileSync(join(dir, 'modules.builtin'), 'kernel/drivers/char/hw_random/rng-core.ko\n');

  it('finds .ko and .ko.xz modules by either spelling, decompresses xz and knows built-ins', () => {
    const tree = new ModuleTree(dir);
    expect(tree.lookup('virtio-rng')).toEqual({
      kind: 'module',
      path: 'kernel/drivers/char/hw_random/virtio-rng.ko',
      depends: ['virtio_ring', 'virtio', 'rng_core'],
    });
    expect(Buffer.from(tree.read('virtio_rng')).equals(Buffer.from(rng))).toBe(true);
    expect(tree.lookup('rng-core')).toEqual({ kind: 'builtin' });
    expect(tree.lookup('nosuch')).toBeUndefined();
    expect(resolveModules(['virtio-rng'], tree.lookup).order.map((m) => m.name)).toEqual(['virtio_ring', 'virtio', 'virtio_rng']);
  });
});
