// Configuration space, link status and feature negotiation.
import { describe, expect, it } from 'vitest';
import { featureMask, VIRTIO_CONFIG_S_FEATURES_OK } from '@virtio/core';
import { LoopbackTransport } from '@virtio/core/testing';
import { BumpAllocator, FlatGuestMemory } from '@virtio/ring';
import {
  CallbackBackend,
  NET_DRIVER_FEATURES,
  NetConfigOffset,
  NetDevice,
  NetDriver,
  VIRTIO_NET_F_CSUM,
  VIRTIO_NET_F_CTRL_VQ,
  VIRTIO_NET_F_GUEST_CSUM,
  VIRTIO_NET_F_GUEST_TSO4,
  VIRTIO_NET_F_HOST_TSO4,
  VIRTIO_NET_F_MQ,
  VIRTIO_NET_F_MTU,
  VIRTIO_NET_F_SPEED_DUPLEX,
  VIRTIO_NET_DUPLEX_FULL,
  VIRTIO_NET_SPEED_UNKNOWN,
  VIRTIO_NET_F_STATUS,
  VIRTIO_NET_S_LINK_UP,
} from '../src/index.js';
import { ethFrame, rig } from './harness.js';

const plain = () => new CallbackBackend({ onFrame: () => {} });

describe('configuration space', () => {
  it('[net.drv.2] the driver takes the MAC address from mac when VIRTIO_NET_F_MAC is negotiated', () => {
    const mac = Uint8Array.of(0x02, 1, 2, 3, 4, 5);
    const r = rig({ mac });
    expect(r.driver.mac).toEqual(mac);
    expect(r.device.readConfig(NetConfigOffset.mac + 5, 1)).toBe(5);
  });

  it('[net.drv.2] without VIRTIO_NET_F_MAC the driver uses a locally administered unicast address', () => {
    const r = rig({ driverFeatures: NET_DRIVER_FEATURES & ~featureMask(5) });
    expect(r.driver.mac[0] & 0x03).toBe(0x02);
  });

  it('[net.drv.51] without VIRTIO_NET_F_MAC the driver gives the device its address (MAC_ADDR_SET), so unicast filtering lets it through', async () => {
    const r = rig({ driverFeatures: NET_DRIVER_FEATURES & ~featureMask(5) });
    expect(r.device.mac).toEqual(r.driver.mac);
    expect(await r.driver.setPromisc(false)).toBe(true);
    r.callback.deliver(ethFrame(60, 1, Array.from(r.driver.mac)));
    expect(r.received).toHaveLength(1);
  });

  it('[net.drv.4] the driver negotiates VIRTIO_NET_F_MTU when the device offers it', () => {
    const r = rig({ mtu: 1400 });
    expect(r.driver.features & featureMask(VIRTIO_NET_F_MTU)).not.toBe(0n);
    expect(r.driver.mtu).toBe(1400);
  });

  it('[net.dev.2] [net.dev.4] offers an MTU only in 68..65535 and never changes it', () => {
    expect(() => new NetDevice({ backend: plain(), mtu: 67 })).toThrow(RangeError);
    expect(() => new NetDevice({ backend: plain(), mtu: 65536 })).toThrow(RangeError);
    const r = rig({ mtu: 9000 });
    expect(r.device.deviceFeatures & featureMask(VIRTIO_NET_F_MTU)).not.toBe(0n);
    expect(r.driver.mtu).toBe(9000);
    r.device.writeConfig();
    r.driver.device.writeConfig(NetConfigOffset.mtu, 2, 1500);
    expect(r.device.readConfig(NetConfigOffset.mtu, 2)).toBe(9000);
  });

  it('[net.drv.1] the driver never writes the configuration space', () => {
    const backend = plain();
    const device = new NetDevice({ backend, mtu: 1500, queuePairs: 2 });
    const transport = new LoopbackTransport(device, { memory: new FlatGuestMemory(new Uint8Array(4 << 20)), transport: 'mmio' });
    const writes: number[] = [];
    const write = transport.writeConfig.bind(transport);
    transport.writeConfig = (o, w, v) => {
      writes.push(o);
      write(o, w, v);
    };
    const memory = transport.state.memory;
    const driver = new NetDriver(transport, { memory, allocator: new BumpAllocator(0x1000, (4 << 20) - 0x1000) });
    expect(driver.maxPairs).toBe(2);
    expect(writes).toEqual([]);
  });
});

describe('header size', () => {
  it('[net.drv.43] [net.drv.12] struct virtio_net_hdr is 12 bytes both ways without hash or tunnel features', () => {
    const r = rig();
    expect(r.driver.hdrSize).toBe(12);
    r.driver.send(ethFrame(60, 1));
    expect(r.sent[0].frame).toEqual(ethFrame(60, 1)); // the device stripped exactly 12 bytes
  });
});

describe('link status', () => {
  it('[net.drv.3] a link change sets VIRTIO_NET_S_LINK_UP and sends a configuration change notification', () => {
    const r = rig();
    expect(r.driver.linkUp).toBe(true);
    r.device.setLink(false);
    expect(r.configChanges()).toBe(1);
    expect(r.driver.linkUp).toBe(false);
    expect(r.device.readConfig(NetConfigOffset.status, 2) & VIRTIO_NET_S_LINK_UP).toBe(0);
    r.callback.deliver(ethFrame(60));
    expect(r.received).toHaveLength(0); // no carrier
    r.device.setLink(false);
    expect(r.configChanges()).toBe(1); // no change, no notification
    r.device.setLink(true);
    expect(r.configChanges()).toBe(2);
    expect(r.driver.linkUp).toBe(true);
    r.callback.deliver(ethFrame(60));
    expect(r.received).toHaveLength(1);
  });

  it('[net.drv.3] without VIRTIO_NET_F_STATUS the driver assumes the link is up', () => {
    const r = rig({ linkUp: false, driverFeatures: NET_DRIVER_FEATURES & ~featureMask(VIRTIO_NET_F_STATUS) });
    expect(r.driver.linkUp).toBe(true);
    r.callback.deliver(ethFrame(60));
    expect(r.received).toHaveLength(1);
  });
});

describe('feature negotiation', () => {
  it('offers offloads only when the backend carries virtio-net headers', () => {
    const off = new NetDevice({ backend: plain() }).deviceFeatures;
    const on = new NetDevice({ backend: new CallbackBackend({ onFrame: () => {}, vnetHeader: true }) }).deviceFeatures;
    for (const bit of [VIRTIO_NET_F_CSUM, VIRTIO_NET_F_GUEST_CSUM, VIRTIO_NET_F_HOST_TSO4, VIRTIO_NET_F_GUEST_TSO4]) {
      expect(off & featureMask(bit)).toBe(0n);
      expect(on & featureMask(bit)).not.toBe(0n);
    }
  });

  it('refuses FEATURES_OK for features without the ones they require (spec 5.1.3.1)', () => {
    const device = new NetDevice({ backend: new CallbackBackend({ onFrame: () => {}, vnetHeader: true }), queuePairs: 2 });
    expect(device.validateFeatures(featureMask(VIRTIO_NET_F_GUEST_TSO4))).toBe(false);
    expect(device.validateFeatures(featureMask(VIRTIO_NET_F_HOST_TSO4))).toBe(false);
    expect(device.validateFeatures(featureMask(VIRTIO_NET_F_MQ))).toBe(false);
    expect(device.validateFeatures(featureMask(VIRTIO_NET_F_MQ, VIRTIO_NET_F_CTRL_VQ))).toBe(true);
    expect(device.validateFeatures(featureMask(VIRTIO_NET_F_GUEST_TSO4, VIRTIO_NET_F_GUEST_CSUM))).toBe(true);
    const transport = new LoopbackTransport(device, { memory: new FlatGuestMemory(new Uint8Array(1 << 20)), transport: 'mmio' });
    transport.setStatus(1);
    transport.setStatus(3);
    transport.writeDriverFeatures(featureMask(32, VIRTIO_NET_F_HOST_TSO4));
    transport.setStatus(3 | VIRTIO_CONFIG_S_FEATURES_OK);
    expect(transport.getStatus() & VIRTIO_CONFIG_S_FEATURES_OK).toBe(0);
  });
});

describe('backend refusing the negotiated offloads', () => {
  it('sets DEVICE_NEEDS_RESET instead of throwing out of DRIVER_OK', () => {
    const backend = new CallbackBackend({ onFrame: () => {}, vnetHeader: true });
    backend.setOffloads = () => {
      throw new Error('TUNSETOFFLOAD refused');
    };
    const r = rig({ backend });
    expect(r.transport.getStatus() & 64).toBe(64);
    backend.deliver(ethFrame(60));
    expect(r.received).toHaveLength(0);
  });
});

describe('speed and duplex', () => {
  it('[net.dev.10] [net.dev.11] [net.dev.12] reports the configured speed and duplex, and only valid values', () => {
    expect(() => new NetDevice({ backend: plain(), speed: 0x80000000 })).toThrow(RangeError);
    expect(new NetDevice({ backend: plain() }).deviceFeatures & featureMask(VIRTIO_NET_F_SPEED_DUPLEX)).toBe(0n);
    const r = rig({ speed: 10000, duplex: 'full' });
    expect(r.device.readConfig(NetConfigOffset.speed, 4)).toBe(10000);
    expect(r.device.readConfig(NetConfigOffset.duplex, 1)).toBe(VIRTIO_NET_DUPLEX_FULL);
    expect([r.driver.speed, r.driver.duplex]).toEqual([10000, 'full']);
    const half = rig({ duplex: 'half' });
    expect(half.device.readConfig(NetConfigOffset.speed, 4)).toBe(VIRTIO_NET_SPEED_UNKNOWN);
    expect([half.driver.speed, half.driver.duplex]).toEqual([undefined, 'half']);
    r.device.setLink(false);
    r.device.setLink(true);
    expect(r.device.readConfig(NetConfigOffset.speed, 4)).toBe(10000);
  });

  it('[net.drv.8] [net.drv.9] the driver treats out-of-range speed or duplex as unknown and re-reads them on a change', () => {
    const backend = plain();
    let speed = 100;
    let duplex = 1;
    class OddDevice extends NetDevice {
      override readConfig(offset: number, width: 1 | 2 | 4): number {
        if (offset === NetConfigOffset.speed && width === 4) return speed;
        if (offset === NetConfigOffset.duplex && width === 1) return duplex;
        return super.readConfig(offset, width);
      }
    }
    const device = new OddDevice({ backend, speed: 100, duplex: 'half' });
    const transport = new LoopbackTransport(device, { memory: new FlatGuestMemory(new Uint8Array(4 << 20)), transport: 'mmio' });
    const driver = new NetDriver(transport, { memory: transport.state.memory, allocator: new BumpAllocator(0x1000, (4 << 20) - 0x1000) });
    transport.onInterrupt = () => driver.handleInterrupt();
    expect([driver.speed, driver.duplex]).toEqual([100, 'half']);
    speed = 0x80000001;
    duplex = 7;
    device.setLink(false);
    expect([driver.speed, driver.duplex]).toEqual([undefined, undefined]);
  });
});
