/**
 * Wires a console port to Node streams: host input from a Readable (a terminal, a socket, a
 * file) goes to the guest with back-pressure (the Readable pauses while the port holds
 * `highWaterMark` bytes and resumes when they are delivered); guest output goes to a Writable.
 */
import type { Readable, Writable } from 'node:stream';
import type { ConsolePort } from '../port.js';

export interface StreamConnection {
  /** Detaches the streams from the port (the streams are not closed). */
  close(): void;
}

export interface ConnectStreamsOptions {
  /** When `input` ends, mark the host side disconnected (VIRTIO_CONSOLE_PORT_OPEN 0). Default true. */
  readonly disconnectOnEnd?: boolean;
}

/**
 * Connects `port` to `input` (host to guest) and `output` (guest to host); either may be omitted.
 * Guest output is copied before `output.write` (the port's bytes view guest memory). The
 * Writable's own back-pressure is not passed to the guest: transmit buffers are used at once
 * (Linux's hvc busy-waits for them), so a slow Writable buffers in Node.
 */
export function connectStreams(
  port: ConsolePort,
  input: Readable | undefined,
  output: Writable | undefined,
  opts: ConnectStreamsOptions = {},
): StreamConnection {
  const previous = port.backend;
  if (output) port.backend = { write: (data) => void output.write(Buffer.from(data)) };
  const onData = (chunk: Buffer | string) => {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (!port.push(bytes)) input?.pause();
  };
  const onEnd = () => {
    if (opts.disconnectOnEnd ?? true) port.setHostConnected(false);
  };
  if (input) {
    port.onDrain = () => input.resume();
    input.on('data', onData);
    input.on('end', onEnd);
    port.setHostConnected(true);
  }
  return {
    close() {
      if (input) {
        input.off('data', onData);
        input.off('end', onEnd);
        port.onDrain = undefined;
      }
      if (output) port.backend = previous;
    },
  };
}

/** A terminal (tty.WriteStream) whose size follows: calls `resize(cols, rows)` now and on every 'resize'. */
export function followTerminalSize(
  tty: { columns?: number; rows?: number; on(e: 'resize', f: () => void): unknown; off(e: 'resize', f: () => void): unknown },
  resize: (cols: number, rows: number) => void,
): StreamConnection {
  const apply = () => {
    if (tty.columns && tty.rows) resize(tty.columns, tty.rows);
  };
  apply();
  tty.on('resize', apply);
  return { close: () => void tty.off('resize', apply) };
}
