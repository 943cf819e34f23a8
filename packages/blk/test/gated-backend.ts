// A backend wrapper whose calls finish only when the test releases them, in any order: for
// out-of-order completions, flush ordering and resets with requests in flight.
import type { BlockBackend } from '../src/index.js';

export interface GatedCall {
  readonly op: 'read' | 'write' | 'flush' | 'discard' | 'writeZeroes';
  readonly args: readonly unknown[];
  /** Runs the inner backend's call and settles the device's promise with its outcome. */
  release(): Promise<void>;
  /** Settles the device's promise with a failure, without calling the inner backend. */
  fail(): void;
}

export class GatedBackend implements BlockBackend {
  readonly calls: GatedCall[] = [];
  /** Events in order: "<op> start", "<op> done". */
  readonly log: string[] = [];
  constructor(readonly inner: BlockBackend) {}
  get size() {
    return this.inner.size;
  }
  get readOnly() {
    return this.inner.readOnly;
  }
  get id() {
    return this.inner.id;
  }
  /** Calls not yet released or failed. */
  get pending(): GatedCall[] {
    return this.calls.filter((c) => !(c as { settled?: boolean }).settled);
  }
  #gate(op: GatedCall['op'], args: unknown[], run: () => Promise<void>): Promise<void> {
    this.log.push(`${op} start`);
    return new Promise<void>((resolve, reject) => {
      const call = {
        op,
        args,
        settled: false,
        release: async () => {
          call.settled = true;
          try {
            await run();
            this.log.push(`${op} done`);
            resolve();
          } catch (err) {
            reject(err as Error);
          }
        },
        fail: () => {
          call.settled = true;
          reject(new Error('gated failure'));
        },
      };
      this.calls.push(call);
    });
  }
  read(offset: number, views: readonly Uint8Array[]) {
    return this.#gate('read', [offset, views], () => this.inner.read(offset, views));
  }
  write(offset: number, views: readonly Uint8Array[]) {
    return this.#gate('write', [offset, views], () => this.inner.write(offset, views));
  }
  flush() {
    return this.#gate('flush', [], () => this.inner.flush());
  }
  discard(offset: number, length: number) {
    return this.#gate('discard', [offset, length], () => this.inner.discard(offset, length));
  }
  writeZeroes(offset: number, length: number, unmap: boolean) {
    return this.#gate('writeZeroes', [offset, length, unmap], () => this.inner.writeZeroes(offset, length, unmap));
  }
}

/** Lets queued microtasks and promise callbacks run. */
export async function settle(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}
