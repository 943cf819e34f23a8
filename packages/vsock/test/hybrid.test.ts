// The Node hybrid backend over real UNIX sockets in a temporary directory.
import { afterEach, describe, expect, it } from 'vitest';
import { createConnection, createServer, type Server } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VMADDR_CID_HOST } from '../src/index.js';
import { HybridVsockBackend } from '../src/node/index.js';
import { pattern, rig } from './harness.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const until = async (cond: () => boolean) => {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 2));
};

describe('hybrid vsock (UNIX sockets)', () => {
  it('a host program connects with CONNECT <port> and exchanges bytes with a guest listener', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vsock-'));
    dirs.push(dir);
    const t = rig();
    const backend = new HybridVsockBackend(t.device, { udsPath: join(dir, 'v.sock') });
    await backend.start();
    t.driver.listen(52, (c) => (c.ondata = (d) => c.write(d.map((b) => b + 1))));
    const sock = createConnection(join(dir, 'v.sock'));
    let got = Buffer.alloc(0);
    sock.on('data', (d) => (got = Buffer.concat([got, d])));
    sock.write('CONNECT 52\n');
    await until(() => got.includes(0x0a));
    expect(got.toString()).toMatch(/^OK \d+\n$/);
    got = Buffer.alloc(0);
    sock.write(Buffer.from(pattern(5000)));
    await until(() => got.length >= 5000);
    expect(Buffer.compare(got, Buffer.from(pattern(5000).map((b) => b + 1)))).toBe(0);
    sock.destroy();
    await backend.close();
  });

  it('a guest connection to host port P reaches the program listening on <udsPath>_P; none listening resets it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vsock-'));
    dirs.push(dir);
    const t = rig();
    const backend = new HybridVsockBackend(t.device, { udsPath: join(dir, 'v.sock') });
    await backend.start();
    let got = Buffer.alloc(0);
    const server: Server = createServer((s) => s.on('data', (d) => (got = Buffer.concat([got, d]))));
    await new Promise<void>((r) => server.listen(join(dir, 'v.sock_1024'), () => r()));
    const c = await t.driver.connect(VMADDR_CID_HOST, 1024);
    c.write(pattern(3000));
    await until(() => got.length >= 3000);
    expect(Buffer.compare(got, Buffer.from(pattern(3000)))).toBe(0);
    const lonely = await t.driver.connect(VMADDR_CID_HOST, 1025);
    await until(() => lonely.state === 'closed');
    expect(lonely.state).toBe('closed');
    await backend.close();
    await new Promise<void>((r) => server.close(() => r()));
  });
});
