// Host side of e2e-more-devices.test.ts, run next to the VMM inside the rig:
//   node more-devices-peer.mjs config.json
// config: { command: [argv...], out: "record.json", vsock: { socket, hostPort, guestPort }, input: { socket } }.
// Listens at <socket>_<hostPort> (the hybrid vsock forwards the guest's connections to host port
// hostPort there) and answers each line L with "ack L"; connects through <socket> with
// "CONNECT <guestPort>" until the guest's listener answers, sends one line and reads the reply;
// listens at input.socket for the VMM's --input socket and sends it "abs N N" every 200 ms (N
// counting up from 100); runs the VMM command (output inherited) and writes a record, then
// exits with its status.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const { socket, hostPort, guestPort } = config.vsock;
const record = { guestLines: [], host: { sent: `vmmtest-host ${randomUUID()}`, received: null, attempts: 0 }, input: { first: 100, sent: 0 }, exit: null };

/** Calls onLine for each complete line arriving on `s`. */
function lines(s, onLine) {
  let buf = '';
  s.on('data', (d) => {
    buf += d.toString('latin1');
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      onLine(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
    }
  });
}

const forwarded = `${socket}_${hostPort}`;
rmSync(forwarded, { force: true });
const server = createServer((s) => {
  s.on('error', () => s.destroy());
  lines(s, (line) => {
    record.guestLines.push(line);
    s.end(`ack ${line}\n`);
  });
});
await new Promise((resolve) => server.listen(forwarded, resolve));

rmSync(config.input.socket, { force: true });
const inputServer = createServer((s) => {
  s.on('error', () => s.destroy());
  const timer = setInterval(() => {
    const n = record.input.first + record.input.sent++;
    s.write(`abs ${n} ${n}\n`);
  }, 200);
  s.on('close', () => clearInterval(timer));
});
await new Promise((resolve) => inputServer.listen(config.input.socket, resolve));

let done = false;
/** One attempt to reach the guest listener: resolves true when it answered. */
function attempt() {
  record.host.attempts++;
  return new Promise((resolve) => {
    const s = createConnection(socket);
    let state = 'connect';
    const finish = (ok) => {
      clearTimeout(timer);
      s.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), 3000);
    s.on('error', () => finish(false));
    s.on('close', () => finish(false));
    s.on('connect', () => s.write(`CONNECT ${guestPort}\n`));
    lines(s, (line) => {
      if (state === 'connect') {
        if (!line.startsWith('OK ')) return finish(false);
        state = 'reply';
        s.write(`${record.host.sent}\n`);
      } else {
        record.host.received = line;
        finish(true);
      }
    });
  });
}

const child = spawn(config.command[0], config.command.slice(1), { stdio: 'inherit' });
const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1))));
child.on('exit', () => (done = true));
(async () => {
  while (!done) {
    if (await attempt()) return;
    await new Promise((r) => setTimeout(r, 500));
  }
})();
record.exit = await exited;
server.close();
inputServer.close();
writeFileSync(config.out, JSON.stringify(record));
process.exit(record.exit);
