import { type Access, KIND_IO } from '../vcpu/channel.js';

/** Counts device accesses by kind, address and direction (the `--stats` report). */
export class ExitStats {
  readonly #counts = new Map<string, number>();
  total = 0;

  record(a: Access): void {
    const key = `${a.kind === KIND_IO ? 'port' : 'mmio'} 0x${a.addr.toString(16)} ${a.isWrite ? 'write' : 'read'}`;
    this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1);
    this.total++;
  }

  /** The `top` most frequent accesses, one "count  kind address direction" line each. */
  report(top = 15): string[] {
    return [...this.#counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, n]) => `${String(n).padStart(8)}  ${k}`);
  }
}
