// Figures for the virtio-ccw hot paths, printed, never asserted:
// - guest->host: DIAGNOSE 0x500 through the channel subsystem, with the host cookie passed
//   back and without it (lookup by subchannel ID among 64 subchannels);
// - host->guest: a used buffer notification through two-stage and classic indicators,
//   including the driver taking the indicators (TEST SUBCHANNEL, summary, queue bits).
import { initializeDevice } from '@virtio/core';
import { EchoDevice } from '@virtio/core/testing';
import { BumpAllocator, FlatGuestMemory } from '@virtio/ring';
import { CcwDriverTransport, CcwTransport, ChannelSubsystem } from '../src/index.js';

const N = 200_000;
const SCHID = 0x0001_003f;
const noop = { ioInterrupt: () => {}, adapterInterrupt: () => {} };

function rig(indicators: 'adapter' | 'classic') {
  const memory = new FlatGuestMemory(new Uint8Array(1 << 20));
  const allocator = new BumpAllocator(0x1000, (1 << 20) - 0x1000);
  const device = new EchoDevice({ queues: 2 });
  const cs = new ChannelSubsystem();
  for (let i = 0; i < 63; i++) cs.attach(0x0001_0000 + i, new CcwTransport(new EchoDevice(), { memory, interrupts: noop }));
  let onInterrupt = (): void => {};
  const transport = new CcwTransport(device, {
    memory,
    interrupts: { ioInterrupt: () => onInterrupt(), adapterInterrupt: () => onInterrupt() },
  });
  cs.attach(SCHID, transport);
  const driver = CcwDriverTransport.open({ css: cs, schid: SCHID, memory, allocator, indicators });
  const dev = initializeDevice(driver, { memory, allocator, wantedFeatures: 0n, queues: [{ index: 0, size: 256 }] });
  onInterrupt = () => void dev.handleInterrupt();
  return { cs, device, transport };
}

function measure(name: string, fn: () => void): void {
  for (let i = 0; i < N / 10; i++) fn();
  const t0 = performance.now();
  for (let i = 0; i < N; i++) fn();
  const ms = performance.now() - t0;
  console.log(`${name.padEnd(62)} ${(N / ms / 1000).toFixed(2)} M/s  ${((ms * 1e6) / N).toFixed(0)} ns each`);
}

{
  const { cs, device } = rig('adapter');
  let cookie = 0n;
  measure('notify (DIAGNOSE 0x500), cookie passed back', () => {
    cookie = cs.notify(SCHID, 0, cookie);
  });
  device.notifications.length = 0;
  measure('notify (DIAGNOSE 0x500), no cookie: lookup by ID', () => {
    cs.notify(SCHID, 0, -1n);
  });
  device.notifications.length = 0;
}
for (const kind of ['adapter', 'classic'] as const) {
  const { device } = rig(kind);
  const interrupt = device.ctx!.interrupt;
  measure(`used buffer notification, ${kind} indicators, driver takes it`, () => interrupt.usedBuffer(0));
}
