// The QEMU run's host side without QEMU: the peer script runs a stand-in "QEMU" that plays the
// guest (console line over the chardev socket, the net check's upload and download streams).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { consoleReply } from '../src/checks/console.js';
import { PEER_PLACEHOLDERS, peerScript, type PeerConfig, type PeerRecord } from '../src/qemu/peer.js';
import { qemuCheckArgs } from '../src/qemu/run.js';
import type { TestGuest } from '../src/guest/build.js';
import { testGuestCmdline } from '../src/guest/build.js';

const dir = mkdtempSync(join(tmpdir(), 'tg-peer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Plays the guest: argv is [upPort, downPort, consoleSocket]; prints what it saw as JSON, exits 3.
const FAKE_GUEST = `import { connect } from 'node:net';
import { createHash } from 'node:crypto';
const [up, down, sock] = process.argv.slice(2);
const digest = (b) => createHash('sha256').update(b).digest('hex');
const line = await new Promise((ok) => {
  const c = connect(sock, () => c.write('vmmtest-console 42\\n'));
  let buf = '';
  c.on('data', (d) => { buf += d; if (buf.includes('\\n')) { c.end(); ok(buf.trim()); } });
});
const payload = Buffer.alloc(3 * 65536, 7);
await new Promise((ok) => { const c = connect(Number(up), '127.0.0.1', () => c.write(payload)); c.on('close', ok); c.resume(); });
const got = await new Promise((ok) => { const parts = []; const c = connect(Number(down), '127.0.0.1'); c.on('data', (d) => parts.push(d)); c.on('close', () => ok(Buffer.concat(parts))); });
console.log(JSON.stringify({ line, sent: digest(payload), got: got.length, gotSha: digest(got) }));
process.exit(3);
`;

describe('QEMU run peer', () => {
  it('answers console lines with ack, digests the upload, serves the download and exits with QEMU status', () => {
    writeFileSync(join(dir, 'fake-guest.mjs'), FAKE_GUEST);
    writeFileSync(join(dir, 'peer.mjs'), peerScript());
    const config: PeerConfig = {
      command: [process.execPath, join(dir, 'fake-guest.mjs'), PEER_PLACEHOLDERS.up, PEER_PLACEHOLDERS.down, PEER_PLACEHOLDERS.console],
      bytes: 3 * 65536,
      out: join(dir, 'record.json'),
    };
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
    let status = 0;
    let stdout = '';
    try {
      execFileSync(process.execPath, [join(dir, 'peer.mjs'), join(dir, 'config.json')], { encoding: 'utf8', timeout: 30_000 });
    } catch (e) {
      const err = e as { status: number; stdout: string };
      status = err.status;
      stdout = err.stdout;
    }
    expect(status).toBe(3);
    const guest = JSON.parse(stdout) as { line: string; sent: string; got: number; gotSha: string };
    const record = JSON.parse(readFileSync(config.out, 'utf8')) as PeerRecord;
    expect(guest.line).toBe(consoleReply('vmmtest-console 42'));
    expect(record.console).toEqual({ received: ['vmmtest-console 42'], sent: [consoleReply('vmmtest-console 42')] });
    expect(record.upload).toEqual({ bytes: 3 * 65536, sha256: createHash('sha256').update(Buffer.alloc(3 * 65536, 7)).digest('hex') });
    expect(record.download).toEqual({ bytes: guest.got, sha256: guest.gotSha });
    expect(guest.got).toBe(3 * 65536);
    expect(record.exit).toEqual({ code: 3, signal: null });
  }, 40_000);

  it('QEMU arguments: a writable disk with discard, a read-only disk, the console socket and the net parameters', () => {
    const guest: TestGuest = { kernel: '/k', initrd: '/i', release: 'r', checks: [], cmdline: testGuestCmdline };
    const args = qemuCheckArgs(guest, ['blk', 'net'], '/d/a,b.img', '/d/ro.img', 1 << 20);
    expect(args).toContain('file=/d/a,,b.img,format=raw,if=virtio,discard=unmap');
    expect(args).toContain('file=/d/ro.img,format=raw,if=virtio,readonly=on');
    expect(args).toContain(`socket,id=vcon0,path=${PEER_PLACEHOLDERS.console}`);
    expect(args[args.indexOf('-append') + 1]).toBe(
      `console=ttyS0 quiet panic=-1 vmmtest=blk,net vmmtest.net_up=${PEER_PLACEHOLDERS.up} vmmtest.net_down=${PEER_PLACEHOLDERS.down} vmmtest.net_bytes=1048576`,
    );
  });
});
