import { describe, expect, it } from 'vitest';
import { filterInput } from '../src/cli/console.js';
import { PanicDetector } from '../src/machine/panic-detector.js';

const enc = (s: string) => new TextEncoder().encode(s);

describe('console input', () => {
  it('forwards ordinary bytes, including Ctrl-C', () => {
    const r = filterInput(Uint8Array.of(0x61, 0x03, 0x0d), { escaped: false });
    expect([...r.forward]).toEqual([0x61, 0x03, 0x0d]);
    expect(r.quit).toBe(false);
  });

  it('quits on Ctrl-A x, also split across chunks', () => {
    expect(filterInput(Uint8Array.of(0x61, 0x01, 0x78, 0x62), { escaped: false })).toEqual({ forward: Uint8Array.of(0x61), quit: true });
    const state = { escaped: false };
    expect(filterInput(Uint8Array.of(0x01), state).quit).toBe(false);
    expect(filterInput(Uint8Array.of(0x58), state).quit).toBe(true);
  });

  it('sends one Ctrl-A for Ctrl-A Ctrl-A and drops other escapes', () => {
    expect([...filterInput(Uint8Array.of(0x01, 0x01, 0x01, 0x7a), { escaped: false }).forward]).toEqual([0x01]);
  });
});

describe('panic detection', () => {
  it('reports the first kernel panic line once', () => {
    const seen: string[] = [];
    const d = new PanicDetector((l) => seen.push(l));
    for (const b of enc('[ 1.0] ok\r\n[ 2.0] Kernel panic - not syncing: VFS: Unable to mount root fs\r\nmore\nKernel panic - not syncing: again\n')) d.push(b);
    expect(seen).toEqual(['Kernel panic - not syncing: VFS: Unable to mount root fs']);
  });

  it('ignores a panic line that has not ended', () => {
    const seen: string[] = [];
    const d = new PanicDetector((l) => seen.push(l));
    for (const b of enc('Kernel panic - not syncing: x')) d.push(b);
    expect(seen).toEqual([]);
  });
});
