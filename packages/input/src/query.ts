/**
 * Driver-side queries of the input configuration space (spec 5.8.4, 5.8.5.1): every query
 * writes both select and subsel ([input.drv.1]), writes nothing else ([input.drv.2]) and reads
 * only the `size` bytes the device announced ([input.drv.3]).
 */
import { readConfigConsistent, type DriverTransport } from '@virtio/core';
import { EV_MAX } from './event-codes.js';
import type { InputDeviceDescription } from './description.js';
import {
  VIRTIO_INPUT_CFG_ABS_INFO,
  VIRTIO_INPUT_CFG_EV_BITS,
  VIRTIO_INPUT_CFG_ID_DEVIDS,
  VIRTIO_INPUT_CFG_ID_NAME,
  VIRTIO_INPUT_CFG_ID_SERIAL,
  VIRTIO_INPUT_CFG_PROP_BITS,
  VIRTIO_INPUT_CONFIG_SELECT,
  VIRTIO_INPUT_CONFIG_SIZE,
  VIRTIO_INPUT_CONFIG_SUBSEL,
  VIRTIO_INPUT_CONFIG_U,
  VIRTIO_INPUT_CONFIG_U_SIZE,
  type AbsInfo,
  type InputDevIds,
} from './protocol.js';

/**
 * Selects (select, subsel) and returns the `size` bytes of u the device answers (empty when
 * it does not support the combination). A size above 128 is clamped to 128.
 * @throws DeviceInitError 'config-unstable' when the configuration keeps changing
 */
export function queryInputConfig(transport: DriverTransport, select: number, subsel: number): Uint8Array {
  return readConfigConsistent(transport, (c) => {
    transport.writeConfig(VIRTIO_INPUT_CONFIG_SELECT, 1, select);
    transport.writeConfig(VIRTIO_INPUT_CONFIG_SUBSEL, 1, subsel);
    const size = Math.min(c.u8(VIRTIO_INPUT_CONFIG_SIZE), VIRTIO_INPUT_CONFIG_U_SIZE);
    const out = new Uint8Array(size);
    for (let i = 0; i < size; i++) out[i] = c.u8(VIRTIO_INPUT_CONFIG_U + i);
    return out;
  });
}

const bitsOf = (bytes: Uint8Array): number[] => {
  const out: number[] = [];
  for (let i = 0; i < bytes.length * 8; i++) if (bytes[i >>> 3] & (1 << (i & 7))) out.push(i);
  return out;
};

/**
 * Reads the whole description the device offers: name, serial, ids, properties, the codes of
 * every supported event type (EV_BITS for subsel 0..EV_MAX) and ABS_INFO of every absolute
 * axis it lists. Strings that are not valid UTF-8 are decoded with replacement characters.
 */
export function queryInputDescription(transport: DriverTransport): InputDeviceDescription {
  const dec = new TextDecoder();
  const name = dec.decode(queryInputConfig(transport, VIRTIO_INPUT_CFG_ID_NAME, 0));
  const serial = dec.decode(queryInputConfig(transport, VIRTIO_INPUT_CFG_ID_SERIAL, 0));
  const idBytes = queryInputConfig(transport, VIRTIO_INPUT_CFG_ID_DEVIDS, 0);
  let ids: InputDevIds | undefined;
  if (idBytes.length >= 8) {
    const v = new DataView(idBytes.buffer);
    ids = { bustype: v.getUint16(0, true), vendor: v.getUint16(2, true), product: v.getUint16(4, true), version: v.getUint16(6, true) };
  }
  const properties = bitsOf(queryInputConfig(transport, VIRTIO_INPUT_CFG_PROP_BITS, 0));
  const events = new Map<number, number[]>();
  for (let type = 0; type <= EV_MAX; type++) {
    const bytes = queryInputConfig(transport, VIRTIO_INPUT_CFG_EV_BITS, type);
    if (bytes.length > 0) events.set(type, bitsOf(bytes));
  }
  const absInfo = new Map<number, AbsInfo>();
  for (const axis of events.get(0x03) ?? []) {
    if (axis > 0xff) continue;
    const bytes = queryInputConfig(transport, VIRTIO_INPUT_CFG_ABS_INFO, axis);
    if (bytes.length < 20) continue;
    const v = new DataView(bytes.buffer);
    absInfo.set(axis, { min: v.getInt32(0, true), max: v.getInt32(4, true), fuzz: v.getInt32(8, true), flat: v.getInt32(12, true), res: v.getInt32(16, true) });
  }
  return { name, serial, ids, properties, events, absInfo };
}
