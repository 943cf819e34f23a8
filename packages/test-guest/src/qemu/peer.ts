/** Placeholders in a peer's command, replaced by the peer once it listens. */
export const PEER_PLACEHOLDERS = { up: '@NET_UP@', down: '@NET_DOWN@', console: '@CONSOLE@' } as const;

/** What the peer script is told (written as JSON beside it). */
export interface PeerConfig {
  /** The VMM command (QEMU, or ours); {@link PEER_PLACEHOLDERS} in any argument are replaced. */
  readonly command: readonly string[];
  /** Address the net streams listen on (default 127.0.0.1, QEMU user networking's 10.0.2.2). */
  readonly listen?: string;
  /** Bytes the peer reads from the upload connection before closing it, and sends on the download one. */
  readonly bytes: number;
  /** Where the peer writes its {@link PeerRecord}. */
  readonly out: string;
}

/** The host side's view of a run: the TCP streams and the console socket. */
export interface PeerRecord {
  /** The stream the guest sent: bytes received and their SHA-256 (hex); null when no connection came. */
  readonly upload: { readonly bytes: number; readonly sha256: string } | null;
  /** The stream sent to the guest; null when no connection came. */
  readonly download: { readonly bytes: number; readonly sha256: string } | null;
  /** Lines received on the virtio console and the replies sent. */
  readonly console: { readonly received: string[]; readonly sent: string[] };
  /** The command's exit. */
  readonly exit: { readonly code: number | null; readonly signal: string | null };
}

/**
 * Source of the peer: a Node ES module run as `node peer.mjs config.json` where the VMM runs (in
 * the rig that is L1). It listens on `listen` (ports it picks) for the `net` check's upload
 * (reads `bytes`, digests them, closes) and download (sends `bytes` random bytes, closes), on a
 * Unix socket the VMM's console backend connects to (answers each line L with `ack L`, the
 * `console` check's protocol), runs the command with its stdout and stderr passed through,
 * writes a {@link PeerRecord} to `out` and exits with the command's status.
 */
export function peerScript(): string {
  return `import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const cfg = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const record = { upload: null, download: null, console: { received: [], sent: [] }, exit: null };
const digest = (b) => createHash('sha256').update(b).digest('hex');
const listen = (server, ...at) => new Promise((ok, fail) => { server.once('error', fail); server.listen(...at, () => ok(server)); });

const up = await listen(createServer((c) => {
  const h = createHash('sha256');
  let n = 0;
  c.on('data', (d) => {
    const take = d.subarray(0, Math.max(0, cfg.bytes - n));
    h.update(take);
    n += take.length;
    if (n >= cfg.bytes) { record.upload = { bytes: n, sha256: h.digest('hex') }; c.end(); c.removeAllListeners('data'); c.resume(); }
  });
  c.on('error', () => {});
}), 0, cfg.listen ?? '127.0.0.1');
const down = await listen(createServer((c) => {
  const data = randomBytes(cfg.bytes);
  record.download = { bytes: data.length, sha256: digest(data) };
  c.on('error', () => {});
  c.end(data);
}), 0, cfg.listen ?? '127.0.0.1');
const socket = join(mkdtempSync(join(tmpdir(), 'vmmtest-peer-')), 'console.sock');
await listen(createServer((c) => {
  let buf = '';
  c.setEncoding('utf8');
  c.on('error', () => {});
  c.on('data', (d) => {
    buf += d;
    for (let i = buf.indexOf('\\n'); i >= 0; i = buf.indexOf('\\n')) {
      const line = buf.slice(0, i).replace(/\\r$/, '');
      buf = buf.slice(i + 1);
      record.console.received.push(line);
      if (line.startsWith('ack ')) continue;
      const reply = 'ack ' + line;
      record.console.sent.push(reply);
      c.write(reply + '\\n');
    }
  });
}), socket);

const fill = (a) => a.replaceAll('${PEER_PLACEHOLDERS.up}', String(up.address().port))
  .replaceAll('${PEER_PLACEHOLDERS.down}', String(down.address().port))
  .replaceAll('${PEER_PLACEHOLDERS.console}', socket);
const argv = cfg.command.map(fill);
const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'inherit', 'inherit'] });
const finish = (code, signal) => {
  record.exit = { code, signal };
  writeFileSync(cfg.out, JSON.stringify(record));
  process.exit(code ?? 1);
};
child.on('error', (e) => { console.error(e.message); finish(127, null); });
child.on('exit', finish);
for (const s of ['SIGTERM', 'SIGINT']) process.on(s, () => child.kill('SIGKILL'));
`;
}
