// Property: batches of concurrent requests on disjoint ranges, over every ring layout and both
// backends, leave the disk equal to a simple model and read back what the model holds.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MemoryBackend, VIRTIO_BLK_S_OK, type BlockBackend } from '../src/index.js';
import { FileBackend } from '../src/node/index.js';
import { DATA_BASE, pattern, rig, RING_MODES } from './harness.js';

const S = 512;
const SECTORS = 256;
const dir = mkdtempSync(join(tmpdir(), 'virtio-blk-model-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Op =
  | { kind: 'write'; sector: number; count: number; seed: number }
  | { kind: 'read'; sector: number; count: number }
  | { kind: 'zero'; sector: number; count: number; unmap: boolean }
  | { kind: 'discard'; sector: number; count: number };

const opArb = fc.record({
  kind: fc.constantFrom('write', 'write', 'read', 'read', 'zero', 'discard'),
  slot: fc.nat(15),
  count: fc.integer({ min: 1, max: 16 }),
  seed: fc.nat(),
  unmap: fc.boolean(),
});

/** Ops of one batch on disjoint 16-sector slots, so their order does not matter. */
function batch(raw: readonly { kind: string; slot: number; count: number; seed: number; unmap: boolean }[]): Op[] {
  const used = new Set<number>();
  const ops: Op[] = [];
  for (const r of raw) {
    if (used.has(r.slot)) continue;
    used.add(r.slot);
    const sector = r.slot * 16;
    if (r.kind === 'write') ops.push({ kind: 'write', sector, count: r.count, seed: r.seed });
    else if (r.kind === 'read') ops.push({ kind: 'read', sector, count: r.count });
    else if (r.kind === 'zero') ops.push({ kind: 'zero', sector, count: r.count, unmap: r.unmap });
    else ops.push({ kind: 'discard', sector, count: r.count });
  }
  return ops;
}

describe('model', () => {
  for (const mode of RING_MODES) {
    for (const file of [false, true]) {
      it(`concurrent batches match the model (${mode.name}, ${file ? 'file' : 'memory'} backend)`, async () => {
        await fc.assert(
          fc.asyncProperty(fc.array(fc.array(opArb, { minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 6 }), async (batches) => {
            const model = new Uint8Array(SECTORS * S);
            let backend: BlockBackend = new MemoryBackend({ size: SECTORS * S });
            if (file) {
              const p = join(dir, `m-${Math.random().toString(36).slice(2)}.img`);
              writeFileSync(p, model);
              backend = await FileBackend.open(p);
            }
            const t = rig({ backend, ring: mode.ring, queueSize: 16 });
            for (const raw of batches) {
              const ops = batch(raw);
              const results = await Promise.all(
                ops.map((op, i) => {
                  const addr = DATA_BASE + i * 16 * S;
                  const buf = [{ addr, len: op.count * S }];
                  switch (op.kind) {
                    case 'write':
                      t.memory.write(addr, pattern(op.count * S, op.seed));
                      model.set(pattern(op.count * S, op.seed), op.sector * S);
                      return t.driver.write(op.sector, buf);
                    case 'read':
                      return t.driver.read(op.sector, buf);
                    case 'zero':
                      model.fill(0, op.sector * S, (op.sector + op.count) * S);
                      return t.driver.writeZeroes([{ sector: op.sector, numSectors: op.count }], op.unmap);
                    case 'discard':
                      // Discarded data is unspecified for the driver; both backends zero it.
                      model.fill(0, op.sector * S, (op.sector + op.count) * S);
                      return t.driver.discard([{ sector: op.sector, numSectors: op.count }]);
                  }
                }),
              );
              expect(results.every((s) => s === VIRTIO_BLK_S_OK)).toBe(true);
              ops.forEach((op, i) => {
                if (op.kind !== 'read') return;
                const got = new Uint8Array(op.count * S);
                t.memory.read(DATA_BASE + i * 16 * S, got);
                expect(Buffer.compare(got, model.subarray(op.sector * S, (op.sector + op.count) * S))).toBe(0);
              });
            }
            const all = new Uint8Array(SECTORS * S);
            await backend.read(0, [all]);
            expect(Buffer.compare(all, model)).toBe(0);
            await backend.close?.();
          }),
          { numRuns: file ? 15 : 40 },
        );
      });
    }
  }
});
