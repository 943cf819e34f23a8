import type { Access } from '../vcpu/channel.js';
import { KIND_IO } from '../vcpu/channel.js';
import type { Bus } from './io-bus.js';

/**
 * Performs one vCPU access on the port I/O or MMIO bus: `count` repetitions (string I/O)
 * of `size` bytes, reading the written values from `data` or storing the read values
 * there, little-endian.
 */
export function dispatch(access: Access, pio: Bus, mmio: Bus): void {
  const bus = access.kind === KIND_IO ? pio : mmio;
  const { size, data } = access;
  const n = Math.min(access.count, Math.floor(data.length / size));
  for (let r = 0; r < n; r++) {
    const at = r * size;
    if (access.isWrite) {
      let v = 0;
      for (let i = size - 1; i >= 0; i--) v = v * 256 + data[at + i];
      bus.write(access.addr, size, v);
    } else {
      let v = bus.read(access.addr, size);
      for (let i = 0; i < size; i++) {
        data[at + i] = v % 256;
        v = Math.floor(v / 256);
      }
    }
  }
}
