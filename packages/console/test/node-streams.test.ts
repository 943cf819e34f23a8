import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { connectStreams, followTerminalSize } from '../src/node/index.js';
import { enc, rig, settle } from './harness.js';
import { EventEmitter } from 'node:events';

describe('connectStreams (Node backend)', () => {
  it('a Readable feeds the guest and guest output goes to a Writable', async () => {
    const t = rig();
    const input = new PassThrough();
    const chunks: Buffer[] = [];
    const output = new Writable({
      write(chunk: Buffer, _enc, cb) {
        chunks.push(chunk);
        cb();
      },
    });
    const conn = connectStreams(t.device.port(0)!, input, output);
    input.write('ls -l\n');
    await settle();
    expect(t.text(0)).toBe('ls -l\n');
    await t.driver.write(0, enc('total 0\n'));
    await settle();
    expect(Buffer.concat(chunks).toString()).toBe('total 0\n');
    conn.close();
    await t.driver.write(0, enc('after close'));
    expect(Buffer.concat(chunks).toString()).toBe('total 0\n');
  });

  it('pauses the Readable while the guest has no buffers and resumes once the bytes are delivered', async () => {
    const t = rig({ ports: [{ bufferLimit: 1024, highWaterMark: 64 }] }, { receiveBuffers: 1, receiveBufferSize: 32 });
    const input = new PassThrough();
    connectStreams(t.device.port(0)!, input, undefined);
    const flow: string[] = [];
    input.on('pause', () => flow.push('pause'));
    input.on('resume', () => flow.push('resume'));
    input.write(Buffer.alloc(500, 0x61));
    for (let i = 0; i < 100 && t.device.port(0)!.buffered > 0; i++) await settle(1);
    await settle();
    expect(flow.slice(flow.indexOf('pause'))).toEqual(['pause', 'resume']);
    expect(input.isPaused()).toBe(false);
    expect(t.seen.data.get(0)!.length).toBe(500);
    expect(t.device.port(0)!.droppedBytes).toBe(0);
  });

  it('the end of the input disconnects the host side', async () => {
    const t = rig({ maxPorts: 2, ports: [{}, { name: 'sock' }] });
    await settle();
    const input = new PassThrough();
    connectStreams(t.device.port(1)!, input, undefined);
    input.end();
    input.resume();
    await settle();
    expect(t.device.port(1)!.hostConnected).toBe(false);
    expect(t.driver.ports.get(1)!.hostConnected).toBe(false);
  });
});

describe('followTerminalSize', () => {
  it('resizes now and on every resize event until closed', () => {
    const tty = Object.assign(new EventEmitter(), { columns: 80, rows: 24 });
    const sizes: [number, number][] = [];
    const f = followTerminalSize(tty, (c, r) => sizes.push([c, r]));
    tty.columns = 100;
    tty.emit('resize');
    f.close();
    tty.emit('resize');
    expect(sizes).toEqual([
      [80, 24],
      [100, 24],
    ]);
  });
});
