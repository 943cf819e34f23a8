// The virtio device options of `virtio-vmm run`: parsing, feature edits, one-line errors.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_RING_FEATURES } from '@virtio/blk';
import { featureMask, VIRTIO_F_EVENT_IDX, VIRTIO_F_IN_ORDER, VIRTIO_F_INDIRECT_DESC, VIRTIO_F_RING_PACKED } from '@virtio/core';
import { describe, expect, it } from 'vitest';
import { CliError } from '../src/cli/load-files.js';
import { applyEdits, combineEdits, parseConsole, parseDisk, parseFeatures, parseNet, parseRing, parseRng } from '../src/virtio/options.js';
import { fakeBzImage } from './helpers.js';

const PACKED = featureMask(VIRTIO_F_RING_PACKED);
const EVENT_IDX = featureMask(VIRTIO_F_EVENT_IDX);
const INDIRECT = featureMask(VIRTIO_F_INDIRECT_DESC);

describe('device options', () => {
  it('parses --disk with flags, transport and per-device features', () => {
    expect(parseDisk('/a.img', 'pci')).toEqual({ path: '/a.img', readOnly: false, transport: 'pci', features: { set: 0n, clear: 0n } });
    const d = parseDisk('/b.img,readonly,transport=mmio,features=-event_idx:+in_order', 'pci');
    expect(d.readOnly).toBe(true);
    expect(d.transport).toBe('mmio');
    expect(d.features).toEqual({ set: featureMask(VIRTIO_F_IN_ORDER), clear: EVENT_IDX });
  });

  it('rejects malformed device options with a CliError', () => {
    expect(() => parseDisk(',readonly', 'pci')).toThrow(CliError);
    expect(() => parseDisk('/a,bogus', 'pci')).toThrow('unknown --disk flag "bogus"');
    expect(() => parseDisk('/a,transport=usb', 'pci')).toThrow('invalid transport "usb"');
    expect(() => parseFeatures('-eventidx')).toThrow('unknown feature "eventidx"');
    expect(() => parseRing('ring')).toThrow('invalid --ring "ring"');
    expect(() => parseNet('mac=52:54:00:00:00:01', 'pci')).toThrow('--net needs tap=NAME');
    expect(() => parseNet('tap=t0,mac=zz', 'pci')).toThrow('invalid MAC address "zz"');
    expect(() => parseConsole('serial', 'pci')).toThrow(CliError);
    expect(() => parseRng('x', 'pci')).toThrow(CliError);
  });

  it('parses --net, --console and --rng', () => {
    const n = parseNet('tap=tap0,mac=52:54:00:ab:cd:ef,transport=mmio,optional', 'pci');
    expect(n.tap).toBe('tap0');
    expect([...n.mac!]).toEqual([0x52, 0x54, 0x00, 0xab, 0xcd, 0xef]);
    expect(n.optional).toBe(true);
    expect(parseConsole(true, 'mmio')).toMatchObject({ mode: 'tty', transport: 'mmio' });
    expect(parseConsole('socket=/run/c.sock', 'pci')).toMatchObject({ mode: 'socket', socket: '/run/c.sock' });
    expect(parseConsole('ack,transport=mmio', 'pci')).toMatchObject({ mode: 'ack', transport: 'mmio' });
    expect(parseRng('transport=mmio', 'pci').transport).toBe('mmio');
  });

  it('--ring and --features edit the offer; a device-level edit wins over the global one', () => {
    expect(applyEdits(DEFAULT_RING_FEATURES, parseRing('split')) & PACKED).toBe(0n);
    expect(applyEdits(0n, parseRing('packed'))).toBe(PACKED);
    const global = combineEdits(parseRing('split'), parseFeatures('-event_idx,-indirect_desc'));
    const offer = applyEdits(DEFAULT_RING_FEATURES, global);
    expect(offer & (PACKED | EVENT_IDX | INDIRECT)).toBe(0n);
    const device = applyEdits(DEFAULT_RING_FEATURES, combineEdits(global, parseFeatures('+event_idx')));
    expect(device & EVENT_IDX).toBe(EVENT_IDX);
    expect(device & INDIRECT).toBe(0n);
  });
});

describe('device option errors from the CLI (no KVM needed)', () => {
  const BIN = fileURLToPath(new URL('../bin/virtio-vmm.mjs', import.meta.url));
  const vmm = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 });
  it('a missing disk image, a bad feature name and a bad ring are one line each', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmm-opts-'));
    const tiny = join(dir, 'tiny-bzimage');
    writeFileSync(tiny, fakeBzImage());
    try {
      expect(vmm('run', '--kernel', tiny, '--disk', join(dir, 'none.img')).stderr).toBe(`virtio-vmm: cannot open disk image ${join(dir, 'none.img')}: ENOENT\n`);
      expect(vmm('run', '--kernel', tiny, '--rng', '--features', '-evt').stderr).toBe('virtio-vmm: unknown feature "evt" (known: event_idx, indirect_desc, in_order, ring_packed)\n');
      expect(vmm('run', '--kernel', tiny, '--ring', 'round').stderr).toBe('virtio-vmm: invalid --ring "round" (expected packed or split)\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
