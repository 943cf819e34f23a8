// The file backend: flushed writes reach the file and survive reopening; unflushed ones do not.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LoopbackTransport } from '@virtio/core/testing';
import { FreeListAllocator, RegionGuestMemory } from '@virtio/ring';
import { afterEach, describe, expect, it } from 'vitest';
import { PmemDevice, PmemDriver } from '../src/index.js';
import { FilePmemBackend } from '../src/node/index.js';
import { settle } from './harness.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('FilePmemBackend', () => {
  it('[pmem.dev.3] a flushed write is in the file after the flush completes, an unflushed one is not', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pmem-'));
    dirs.push(dir);
    const path = join(dir, 'pmem.img');
    const backend = await FilePmemBackend.open(path, { size: 65536 });
    const PM = 0x100000;
    const memory = new RegionGuestMemory([
      { base: 0, bytes: new Uint8Array(0x40000) },
      { base: PM, bytes: backend.bytes },
    ]);
    const device = new PmemDevice({ backend, start: PM });
    const transport = new LoopbackTransport(device, { memory, transport: 'mmio' });
    const driver = PmemDriver.initialize(transport, { memory, allocator: new FreeListAllocator(0x1000, 0x3f000) });
    transport.onInterrupt = () => queueMicrotask(() => driver.handleInterrupt());
    memory.write(PM + 4096, new TextEncoder().encode('durable'));
    await driver.flush();
    memory.write(PM + 8192, new TextEncoder().encode('volatile'));
    await settle();
    const file = readFileSync(path);
    expect(file.length).toBe(65536);
    expect(file.subarray(4096, 4103).toString()).toBe('durable');
    expect(file[8192]).toBe(0);
    await backend.close();
    const again = await FilePmemBackend.open(path);
    expect(new TextDecoder().decode(again.bytes.subarray(4096, 4103))).toBe('durable');
    await again.close();
  });
});
