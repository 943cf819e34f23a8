import type { Serial } from '../devices/serial.js';

/** Ctrl-A, the console escape: Ctrl-A x quits, Ctrl-A Ctrl-A sends one Ctrl-A. */
export const ESCAPE = 0x01;

/**
 * Splits terminal input into bytes for the guest and the escape command: returns the bytes
 * to forward and whether "Ctrl-A x" was typed. `state.escaped` carries a trailing Ctrl-A
 * over to the next chunk.
 */
export function filterInput(chunk: Uint8Array, state: { escaped: boolean }): { forward: Uint8Array; quit: boolean } {
  const out: number[] = [];
  for (const b of chunk) {
    if (state.escaped) {
      state.escaped = false;
      if (b === 0x78 || b === 0x58) return { forward: Uint8Array.from(out), quit: true };
      if (b === ESCAPE) out.push(ESCAPE);
      continue;
    }
    if (b === ESCAPE) state.escaped = true;
    else out.push(b);
  }
  return { forward: Uint8Array.from(out), quit: false };
}

/**
 * Connects the process's stdin to the guest UART. On a TTY, the terminal goes to raw mode
 * (Ctrl-C reaches the guest; Ctrl-A x quits) and is restored by the returned function,
 * which the caller runs on every exit path (it is also registered on process 'exit').
 */
export function attachConsole(serial: Pick<Serial, 'receive'>, quit: () => void): () => void {
  const stdin = process.stdin;
  const tty = stdin.isTTY === true;
  const state = { escaped: false };
  const onData = (chunk: Buffer) => {
    if (!tty) return serial.receive(chunk);
    const { forward, quit: q } = filterInput(chunk, state);
    if (forward.length) serial.receive(forward);
    if (q) quit();
  };
  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    stdin.off('data', onData);
    if (tty) stdin.setRawMode(false);
    stdin.pause();
  };
  if (tty) stdin.setRawMode(true);
  stdin.on('data', onData);
  stdin.on('error', () => undefined);
  process.once('exit', restore);
  return restore;
}
