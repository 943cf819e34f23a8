/**
 * Host input for --input ...,socket=PATH: the VMM connects to the Unix socket PATH and turns
 * each line into one device update (a sequence ending with SYN_REPORT): `key CODE 1|0` (press,
 * release), `rel DX DY [WHEEL]`, `abs X Y`. Malformed lines are ignored; a socket that fails or
 * closes is logged once and leaves the device without host input.
 */
import { createConnection } from 'node:net';
import { absoluteMoveEvents, type InputDevice, type InputEvent, keyEvents, relativeMoveEvents } from '@virtio/input';

/** The events of one input line, or undefined when it is malformed (values must be 32-bit integers, codes 0..0x2ff). */
export function inputLineEvents(line: string): InputEvent[] | undefined {
  const words = line.trim().split(/\s+/);
  const n = words.slice(1).map((w) => (/^-?\d{1,10}$/.test(w) ? Number(w) : NaN));
  if (n.some((v) => !Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 31)) return undefined;
  switch (words[0]) {
    case 'key':
      return n.length === 2 && n[0] >= 0 && n[0] <= 0x2ff && (n[1] === 0 || n[1] === 1) ? keyEvents(n[0], n[1] === 1) : undefined;
    case 'rel':
      return n.length === 2 || n.length === 3 ? relativeMoveEvents(n[0], n[1], n[2] ?? 0) : undefined;
    case 'abs':
      return n.length === 2 ? absoluteMoveEvents(n[0], n[1]) : undefined;
    default:
      return undefined;
  }
}

/** Longest input line accepted, in bytes; a longer one drops the connection's buffer. */
const MAX_LINE = 256;

/** Connects `device` to the Unix socket `path` (see the file comment). */
export function connectInputSocket(device: InputDevice, path: string, log: (line: string) => void): void {
  const socket = createConnection(path);
  let buf = '';
  socket.on('data', (d: Buffer) => {
    buf += d.toString('latin1');
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const events = inputLineEvents(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
      if (events) device.send(events);
    }
    if (buf.length > MAX_LINE) buf = '';
  });
  socket.on('error', (e) => log(`input socket ${path}: ${e.message}`));
  socket.unref();
}
