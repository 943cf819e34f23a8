// VDEV_RESET on a device whose reset waits for in-flight work (its reset() returns a promise).
import { describe, expect, it } from 'vitest';
import { CCW_CMD_READ_STATUS, CCW_CMD_VDEV_RESET } from '../src/index.js';
import { OK, bringUp, fixture, type Fixture } from './fixture.js';

/** Makes the fixture's device reset finish only when the returned release function is called. */
function slowResets(f: Fixture): (() => void)[] {
  const gates: (() => void)[] = [];
  const reset = f.device.reset.bind(f.device);
  f.device.reset = () => {
    reset();
    return new Promise<void>((resolve) => gates.push(resolve));
  };
  return gates;
}

const settle = async () => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

describe('VDEV_RESET waiting for the device', () => {
  it('[ccw.dev.15] ends busy while the reset is under way and concludes successfully, status 0, once it completed', async () => {
    const f = fixture({ device: { hold: true } });
    const queue = bringUp(f);
    const gates = slowResets(f);
    queue.add([{ addr: f.guest.data([1, 2]), len: 2 }], [{ addr: f.guest.alloc(2), len: 2 }], 1);
    queue.kick();
    f.transport.notify(0);
    const { chain } = f.device.held[0];
    const old = f.device.ctx!.queues[0]!;
    expect(f.cmd(CCW_CMD_VDEV_RESET).status).toBe('busy');
    // Every program ends busy, executing nothing, until the device finished resetting.
    expect(f.cmd(CCW_CMD_READ_STATUS, [0xee]).status).toBe('busy');
    expect(f.cmd(CCW_CMD_VDEV_RESET).status).toBe('busy');
    expect(gates.length).toBe(1);
    expect(f.transport.state.status).not.toBe(0);
    old.push(chain, 2);
    old.needsNotification(); // a device ends its batch: still nothing may reach the ring
    await settle();
    expect(f.cmd(CCW_CMD_VDEV_RESET).status).toBe('busy');
    gates[0]();
    await settle();
    // The driver starts VDEV_RESET again: it concludes, with the status 0.
    expect(f.cmd(CCW_CMD_VDEV_RESET)).toMatchObject(OK);
    expect(f.readStatus()).toBe(0);
    // [ccw.dev.16] the late completion from before the reset reached neither ring nor driver.
    expect(queue.reap()).toBeNull();
    expect(f.irq).toEqual({ io: 0, adapter: [] });
    bringUp(f);
    expect(f.readStatus()).toBe(15);
  });

  it('concludes at once when the device has nothing to wait for', () => {
    const f = fixture();
    bringUp(f);
    f.device.reset = () => undefined;
    expect(f.cmd(CCW_CMD_VDEV_RESET)).toMatchObject(OK);
    expect(f.readStatus()).toBe(0);
  });
});
