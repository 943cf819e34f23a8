// The TAP backend against the real kernel: as root, a TAP interface whose host side lives in a
// network namespace this test creates; our driver sends an ARP request through our device and
// the kernel's ARP reply comes back. Skipped (with the reason) where that is not permitted.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { release } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { featureMask } from '@virtio/core';
import { LoopbackTransport } from '@virtio/core/testing';
import { BumpAllocator, FlatGuestMemory } from '@virtio/ring';
import {
  NET_DRIVER_FEATURES,
  NET_OFFLOAD_FEATURES,
  NetDevice,
  NetDriver,
  PLAIN_HEADER,
  VIRTIO_NET_F_GUEST_USO4,
  VIRTIO_NET_F_GUEST_USO6,
  VIRTIO_NET_F_HOST_USO,
  VIRTIO_NET_HDR_F_NEEDS_CSUM,
} from '../src/index.js';
import { TapBackend, TapError } from '../src/node/index.js';

const ns = `vts-net-${process.pid}`;
const tapName = `vtsn${process.pid % 100000}`;

function tapUsable(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root';
  if (!existsSync('/dev/net/tun')) return '/dev/net/tun missing';
  try {
    execFileSync('ip', ['netns', 'add', ns], { stdio: 'pipe' });
    return undefined;
  } catch (err) {
    return `ip netns add not permitted: ${(err as Error).message.split('\n')[0]}`;
  }
}
const skipReason = tapUsable();
const ip = (...args: string[]): string => execFileSync('ip', ['-n', ns, ...args], { encoding: 'utf8' });

const GUEST_MAC = [0x02, 0x00, 0x00, 0x00, 0x00, 0x42];
const HOST_IP = [10, 77, 0, 1];
const GUEST_IP = [10, 77, 0, 2];

function arpRequest(): Uint8Array {
  const f = new Uint8Array(42);
  f.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 0);
  f.set(GUEST_MAC, 6);
  f.set([0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01], 12);
  f.set(GUEST_MAC, 22);
  f.set(GUEST_IP, 28);
  f.set(HOST_IP, 38);
  return f;
}

/** An IPv4/UDP frame to HOST_IP:5555 whose UDP checksum field holds only the pseudo-header sum. */
function udpFrame(payload: Uint8Array): Uint8Array {
  const f = new Uint8Array(42 + payload.length);
  const v = new DataView(f.buffer);
  f.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 0); // broadcast MAC: no neighbour needed
  f.set(GUEST_MAC, 6);
  v.setUint16(12, 0x0800);
  const ipLen = 20 + 8 + payload.length;
  f.set([0x45, 0, ipLen >>> 8, ipLen & 0xff, 0, 1, 0x40, 0, 64, 17, 0, 0], 14);
  f.set(GUEST_IP, 26);
  f.set(HOST_IP, 30);
  const fold = (x: number): number => {
    while (x > 0xffff) x = (x & 0xffff) + (x >>> 16);
    return x;
  };
  let sum = 0;
  for (let i = 14; i < 34; i += 2) sum += v.getUint16(i);
  v.setUint16(24, ~fold(sum) & 0xffff);
  const udpLen = 8 + payload.length;
  v.setUint16(34, 40000);
  v.setUint16(36, 5555);
  v.setUint16(38, udpLen);
  f.set(payload, 42);
  // Pseudo header: addresses, protocol, UDP length; stored as is (NEEDS_CSUM completes it).
  const pseudo = v.getUint16(26) + v.getUint16(28) + v.getUint16(30) + v.getUint16(32) + 17 + udpLen;
  v.setUint16(40, fold(pseudo));
  return f;
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!cond()) throw new Error(`timed out waiting for ${what}`);
}

describe.skipIf(skipReason !== undefined)(`TAP backend${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  afterAll(() => {
    execFileSync('ip', ['netns', 'del', ns], { stdio: 'pipe' });
  });

  let tap: TapBackend;
  beforeAll(() => {
    tap = new TapBackend({ name: tapName });
    execFileSync('ip', ['link', 'set', tap.name, 'netns', ns]);
    ip('addr', 'add', `${HOST_IP.join('.')}/24`, 'dev', tap.name);
    ip('link', 'set', tap.name, 'up');
  });
  afterAll(() => tap?.close());

  it('exchanges frames with the kernel: an ARP request out, its reply back', async () => {
    const memory = new FlatGuestMemory(new Uint8Array(8 << 20));
    const device = new NetDevice({ backend: tap, mac: Uint8Array.from(GUEST_MAC) });
    const transport = new LoopbackTransport(device, { memory, transport: 'mmio' });
    const frames: Uint8Array[] = [];
    const driver = new NetDriver(transport, {
      memory,
      allocator: new BumpAllocator(0x1000, (8 << 20) - 0x1000),
      wantedFeatures: NET_DRIVER_FEATURES,
      onFrame: (f) => frames.push(f),
    });
    transport.onInterrupt = () => driver.handleInterrupt();
    expect(driver.send(arpRequest())).toBe(true);
    const isReply = (f: Uint8Array): boolean => f[12] === 0x08 && f[13] === 0x06 && f[21] === 2;
    await until(() => frames.some(isReply), 'the ARP reply');
    const reply = frames.find(isReply)!;
    expect(Array.from(reply.subarray(0, 6))).toEqual(GUEST_MAC);
    expect(Array.from(reply.subarray(28, 32))).toEqual(HOST_IP);
    expect(ip('neigh', 'show', 'dev', tap.name)).toContain(GUEST_IP.join('.'));
    driver.reset();
  });

  it('receives a burst of full-size frames from the kernel without losing any', async () => {
    const memory = new FlatGuestMemory(new Uint8Array(8 << 20));
    const device = new NetDevice({ backend: tap, mac: Uint8Array.from(GUEST_MAC) });
    const transport = new LoopbackTransport(device, { memory, transport: 'mmio' });
    let udp = 0;
    const driver = new NetDriver(transport, {
      memory,
      allocator: new BumpAllocator(0x1000, (8 << 20) - 0x1000),
      queueSize: 32,
      onFrame: (f) => {
        if (f[12] === 0x08 && f[13] === 0x00 && f[23] === 17 && f.length === 14 + 20 + 8 + 1400) udp++;
      },
    });
    transport.onInterrupt = () => driver.handleInterrupt();
    ip('neigh', 'replace', GUEST_IP.join('.'), 'lladdr', GUEST_MAC.map((b) => b.toString(16).padStart(2, '0')).join(':'), 'dev', tap.name);
    const count = 500;
    // A UDP sender inside the namespace, as fast as the kernel takes the datagrams.
    const sender = `const s = require('node:dgram').createSocket('udp4'); const b = Buffer.alloc(1400, 7); let n = 0;
      const next = () => n++ < ${count} ? s.send(b, 9, '${GUEST_IP.join('.')}', next) : s.close(); next();`;
    await new Promise<void>((resolve, reject) => {
      execFile('ip', ['netns', 'exec', ns, process.execPath, '-e', sender], (err) => (err ? reject(err) : resolve()));
    });
    await until(() => udp >= count, `${count} datagrams (got ${udp})`);
    expect(udp).toBe(count);
    expect(device.stats.rxErrors).toBe(0);
    driver.reset();
  });

  it('passes a partial checksum (NEEDS_CSUM) through to the kernel, which delivers the datagram', async () => {
    const memory = new FlatGuestMemory(new Uint8Array(8 << 20));
    const device = new NetDevice({ backend: tap, mac: Uint8Array.from(GUEST_MAC) });
    const transport = new LoopbackTransport(device, { memory, transport: 'mmio' });
    const driver = new NetDriver(transport, {
      memory,
      allocator: new BumpAllocator(0x1000, (8 << 20) - 0x1000),
      wantedFeatures: NET_DRIVER_FEATURES | NET_OFFLOAD_FEATURES,
    });
    transport.onInterrupt = () => driver.handleInterrupt();
    const listener = `const s = require('node:dgram').createSocket('udp4');
      s.on('message', (m) => { process.stdout.write(m.toString()); process.exit(0); });
      s.bind(5555, '${HOST_IP.join('.')}', () => process.stdout.write('ready'));
      setTimeout(() => process.exit(2), 5000);`;
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', listener]);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? -1)));
    await until(() => out.includes('ready'), 'the listener');
    const payload = new TextEncoder().encode('hello through NEEDS_CSUM');
    const f = udpFrame(payload);
    expect(driver.send(f, { ...PLAIN_HEADER, flags: VIRTIO_NET_HDR_F_NEEDS_CSUM, csumStart: 34, csumOffset: 6 })).toBe(true);
    expect({ code: await exited, out }).toEqual({ code: 0, out: expect.stringContaining('hello through NEEDS_CSUM') });
    driver.reset();
  });

  it('offers UDP segmentation (HOST_USO, GUEST_USO4/6) exactly when the kernel carries it (Linux 6.2+)', () => {
    const [major, minor] = release().split('.').map(Number);
    expect(tap.uso).toBe(major > 6 || (major === 6 && minor >= 2));
    const uso = featureMask(VIRTIO_NET_F_HOST_USO, VIRTIO_NET_F_GUEST_USO4, VIRTIO_NET_F_GUEST_USO6);
    expect(new NetDevice({ backend: tap }).deviceFeatures & uso).toBe(tap.uso ? uso : 0n);
  });

  it('reports a busy name clearly', () => {
    // The interface moved into the namespace; a second one in ours with a fixed name, opened twice.
    const name = `vtsb${process.pid % 100000}`;
    const first = new TapBackend({ name });
    try {
      expect(() => new TapBackend({ name })).toThrow(TapError);
      expect(() => new TapBackend({ name })).toThrow(/EBUSY.*busy/);
    } finally {
      first.close();
    }
  });
});

describe('TAP backend errors', () => {
  it('names a missing clone device', () => {
    expect(() => new TapBackend({ name: 'x', path: '/nonexistent/tun' })).toThrow(/ENOENT.*\/dev\/net\/tun is missing/);
  });
  it('refuses names longer than 15 bytes', () => {
    expect(() => new TapBackend({ name: 'a'.repeat(16) })).toThrow(RangeError);
  });
});
