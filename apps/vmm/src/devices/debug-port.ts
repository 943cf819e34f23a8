import type { BusDevice } from '../bus/io-bus.js';

/** Port 0x80, the POST/delay port: writes are remembered (`last`), reads return them. */
export class DebugPort implements BusDevice {
  last = 0;

  read(_offset: number, _size: number): number {
    return this.last;
  }

  write(_offset: number, _size: number, value: number): void {
    this.last = value & 0xff;
  }
}
