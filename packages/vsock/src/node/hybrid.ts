/**
 * Firecracker's hybrid vsock on the host side, for Node: host programs reach the guest through
 * UNIX sockets instead of AF_VSOCK.
 *
 * - Host-initiated: a program connects to `udsPath` and writes `CONNECT <port>\n`; the device
 *   connects to that guest port and answers `OK <host port>\n`, then bytes flow both ways. A
 *   refused connection closes the UNIX socket.
 * - Guest-initiated: a guest connection to host port P is forwarded to the UNIX socket
 *   `<udsPath>_P` (a program listens there). When nothing listens, the guest connection is reset.
 *
 * Backpressure both ways: the UNIX socket is paused while vsock data waits for guest credit.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { unlinkSync } from 'node:fs';
import type { VsockDevice } from '../device.js';
import type { VsockConnection } from '../socket/connection.js';

export interface HybridVsockOptions {
  /** Path of the UNIX socket host programs connect to; `<udsPath>_<port>` for guest-initiated connections. */
  readonly udsPath: string;
  /** Longest CONNECT line accepted, in bytes. Default 64. */
  readonly maxLine?: number;
}

export class HybridVsockBackend {
  readonly #device: VsockDevice;
  readonly #opts: HybridVsockOptions;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #catchAll: { close(): void } | undefined;

  constructor(device: VsockDevice, opts: HybridVsockOptions) {
    this.#device = device;
    this.#opts = opts;
    this.#server = createServer((s) => this.#hostInitiated(s));
  }

  /** Starts listening on `udsPath` (removing a stale socket file) and forwarding guest connections. */
  async start(): Promise<void> {
    try {
      unlinkSync(this.#opts.udsPath);
    } catch {
      // nothing to remove
    }
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#opts.udsPath, () => resolve());
    });
    this.#catchAll = this.#device.listenAll((c) => this.#guestInitiated(c));
  }

  /** Stops listening and closes every bridged socket. */
  async close(): Promise<void> {
    this.#catchAll?.close();
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #hostInitiated(sock: Socket): void {
    this.#sockets.add(sock);
    sock.on('close', () => this.#sockets.delete(sock));
    sock.on('error', () => sock.destroy());
    let line = '';
    const max = this.#opts.maxLine ?? 64;
    const onData = (chunk: Buffer) => {
      const nl = chunk.indexOf(0x0a);
      line += chunk.subarray(0, nl < 0 ? chunk.length : nl).toString('latin1');
      if (nl < 0) {
        if (line.length > max) sock.destroy();
        return;
      }
      sock.off('data', onData);
      sock.pause();
      const rest = chunk.subarray(nl + 1);
      const m = /^CONNECT (\d{1,10})$/.exec(line.trim());
      const port = m ? Number(m[1]) : NaN;
      if (!(port <= 0xffffffff)) {
        sock.destroy();
        return;
      }
      this.#device.connect(port).then(
        (conn) => {
          sock.write(`OK ${conn.localPort}\n`);
          this.#bridge(conn, sock);
          if (rest.length > 0) conn.write(rest);
        },
        () => sock.destroy(),
      );
    };
    sock.on('data', onData);
  }

  #guestInitiated(conn: VsockConnection): void {
    const sock = createConnection(`${this.#opts.udsPath}_${conn.localPort}`);
    this.#sockets.add(sock);
    sock.pause();
    sock.once('connect', () => this.#bridge(conn, sock));
    sock.on('error', () => {
      conn.abort();
      sock.destroy();
    });
    sock.on('close', () => this.#sockets.delete(sock));
  }

  #bridge(conn: VsockConnection, sock: Socket): void {
    const HIGH = 1 << 20;
    conn.ondata = (d) => sock.write(d);
    conn.onend = () => sock.end();
    conn.onclose = () => sock.destroy();
    conn.ondrain = () => sock.resume();
    sock.on('data', (d: Buffer) => {
      if (conn.state !== 'connected') return;
      conn.write(d);
      if (conn.queuedBytes > HIGH) sock.pause();
    });
    sock.on('end', () => conn.shutdown(2));
    sock.on('close', () => conn.close());
    sock.resume();
  }
}
