import { describe, expect, it } from 'vitest';
import { MemoryPortBackend, VIRTIO_CONSOLE_DEVICE_READY, type ConsoleDeviceOptions, type ConsoleDriver as ConsoleDriverType } from '../src/index.js';
import { enc, rig, settle, VARIANTS } from './harness.js';

function multiport(extra: Partial<ConsoleDeviceOptions> = {}) {
  const con = new MemoryPortBackend();
  const agent = new MemoryPortBackend();
  const opts: ConsoleDeviceOptions = {
    maxPorts: 4,
    ports: [{ backend: con }, { name: 'org.test.agent.0', backend: agent }],
    ...extra,
  };
  return { con, agent, opts };
}

describe.each(VARIANTS)('multiport console over $name', ({ features }) => {
  it('[console.drv.2] the driver sends DEVICE_READY, so the device announces its ports', async () => {
    const { opts } = multiport();
    const t = rig(opts, {}, features);
    expect(t.driver.multiport).toBe(true);
    expect(t.driver.portLimit).toBe(4);
    await settle();
    expect(t.seen.added).toEqual([0, 1]);
    expect(t.driver.ports.get(1)!.name).toBe('org.test.agent.0');
    expect(t.driver.ports.get(1)!.console).toBe(false);
    expect(t.driver.ports.get(1)!.hostConnected).toBe(true);
    expect(t.device.stats.badControl).toBe(0);
    expect(t.driver.ignoredControl).toBe(0);
  });

  it('[console.drv.3] the driver answers CONSOLE_PORT with PORT_OPEN value 1', async () => {
    const { opts, con } = multiport();
    const t = rig(opts, {}, features);
    await settle();
    expect(t.driver.ports.get(0)!.console).toBe(true);
    expect(con.guestOpen).toBe(true);
    expect(t.device.port(0)!.guestOpen).toBe(true);
    expect(t.device.port(1)!.guestOpen).toBe(false); // not a console port: nobody opened it
  });

  it('data flows on every port; input for a port waits until the guest opens it', async () => {
    const { opts, con, agent } = multiport();
    const t = rig(opts, {}, features);
    await settle();
    await t.driver.write(0, enc('console out'));
    await t.driver.write(1, enc('agent out'));
    expect(con.text()).toBe('console out');
    expect(agent.text()).toBe('agent out');
    t.device.port(1)!.push(enc('to agent'));
    t.device.port(0)!.push(enc('to console'));
    await settle();
    expect(t.text(0)).toBe('to console');
    expect(t.text(1)).toBe('');
    expect(t.device.port(1)!.buffered).toBe(8);
    t.driver.setOpen(1, true);
    await settle();
    expect(agent.guestOpen).toBe(true);
    expect(t.text(1)).toBe('to agent');
  });

  it('[console.dev.3] hot-plugged ports are announced once, below max_nr_ports, never twice', async () => {
    const { opts } = multiport();
    const t = rig(opts, {}, features);
    await settle();
    const p = t.device.addPort({ name: 'late' });
    expect(p.id).toBe(2);
    expect(() => t.device.addPort({}, 1)).toThrow(RangeError); // exists
    expect(() => t.device.addPort({}, 4)).toThrow(RangeError); // >= max_nr_ports
    t.device.addPort({});
    expect(() => t.device.addPort({})).toThrow(RangeError); // no free number left
    // A hostile or confused driver repeating DEVICE_READY must not make the device re-add ports.
    t.rawControl(0, VIRTIO_CONSOLE_DEVICE_READY, 1);
    await settle();
    expect(t.seen.added).toEqual([0, 1, 2, 3]);
    expect(t.driver.ignoredControl).toBe(0); // our driver counts a DEVICE_ADD for a port it has
    expect(t.driver.ports.get(2)!.name).toBe('late');
  });

  it('[console.dev.4] DEVICE_REMOVE only for ports announced with DEVICE_ADD', async () => {
    const { opts } = multiport();
    const t = rig(opts, {}, features);
    await settle();
    t.device.removePort(1);
    expect(() => t.device.removePort(1)).toThrow(RangeError);
    expect(() => t.device.removePort(3)).toThrow(RangeError);
    expect(() => t.device.removePort(0)).toThrow(RangeError);
    await settle();
    expect(t.seen.removed).toEqual([1]);
    expect(t.driver.ports.has(1)).toBe(false);
    expect(t.driver.ignoredControl).toBe(0);
  });

  it('resize of a console port is sent as VIRTIO_CONSOLE_RESIZE; host disconnect as PORT_OPEN 0', async () => {
    const { opts } = multiport({ size: { cols: 80, rows: 25 } });
    const t = rig(opts, {}, features);
    await settle();
    expect(t.driver.ports.get(0)!.size).toEqual({ cols: 80, rows: 25 });
    t.device.resize(120, 50);
    t.device.port(1)!.setHostConnected(false);
    await settle();
    expect(t.seen.resizes).toEqual([
      [0, { cols: 80, rows: 25 }],
      [0, { cols: 120, rows: 50 }],
    ]);
    expect(t.seen.host).toContainEqual([1, false]);
    expect(t.driver.ports.get(1)!.hostConnected).toBe(false);
  });
});

describe('multiport before the driver is ready', () => {
  it('a port added and removed before DEVICE_READY is never announced nor removed', async () => {
    const { opts } = multiport();
    const t = rig(opts, { consoleFeatures: 0n });
    // Without MULTIPORT negotiated only port 0 works; hot-plug is remembered, not sent.
    const p = t.device.addPort({});
    t.device.removePort(p.id);
    await settle();
    expect(t.driver.multiport).toBe(false);
    expect(t.seen.added).toEqual([]);
    expect(t.seen.removed).toEqual([]);
  });

  it('a device reset forgets what the driver had; a new driver gets every port again', async () => {
    const { opts } = multiport();
    const t = rig(opts);
    await settle();
    t.driver.reset();
    const { ConsoleDriver } = await import('../src/index.js');
    const added: number[] = [];
    let again: ConsoleDriverType | undefined;
    t.transport.onInterrupt = () => queueMicrotask(() => again?.handleInterrupt());
    again = ConsoleDriver.initialize(t.transport, { memory: t.memory, allocator: t.allocator, events: { portAdded: (p) => added.push(p.id) } });
    await settle();
    expect(added).toEqual([0, 1]);
  });

  it('a driver with fewer queues than max_nr_ports refuses the ports beyond with PORT_READY 0', async () => {
    const { opts } = multiport();
    const t = rig(opts, { maxPorts: 1 });
    await settle();
    expect(t.driver.portLimit).toBe(1);
    expect([...t.driver.ports.keys()]).toEqual([0]);
    t.device.port(1)!.push(enc('x'));
    await settle();
    expect(t.device.port(1)!.buffered).toBe(1); // never delivered to a port the driver refused
    expect(t.needsReset()).toBe(false);
  });
});
