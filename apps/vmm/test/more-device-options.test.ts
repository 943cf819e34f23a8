// The options of the scsi, vsock, balloon, input, crypto and pmem devices: parsing and one-line errors.
import { describe, expect, it } from 'vitest';
import { CliError } from '../src/cli/load-files.js';
import { parseBalloon, parseCrypto, parseInput, parsePmem, parseScsi, parseVsock } from '../src/virtio/options.js';
import { balloonStatsLine } from '../src/virtio/other-devices.js';
import { inputLineEvents } from '../src/virtio/input-socket.js';
import { deviceCount } from '../src/virtio/devices.js';
import { VIRTIO_BALLOON_S_MEMFREE, VIRTIO_BALLOON_S_MEMTOT } from '@virtio/balloon';
import { ABS_X, ABS_Y, EV_ABS, EV_KEY, EV_REL, EV_SYN, KEY_A, REL_WHEEL, REL_X, REL_Y } from '@virtio/input';

const NONE = { set: 0n, clear: 0n };

describe('scsi, vsock, balloon, input, crypto and pmem options', () => {
  it('--scsi takes an image path, readonly and a transport', () => {
    expect(parseScsi('/a.img', 'pci')).toEqual({ path: '/a.img', readOnly: false, transport: 'pci', features: NONE });
    expect(parseScsi('/b.img,readonly,transport=mmio', 'pci')).toMatchObject({ readOnly: true, transport: 'mmio' });
    expect(() => parseScsi(',readonly', 'pci')).toThrow('the image path comes first');
    expect(() => parseScsi('/a,rw', 'pci')).toThrow('unknown --scsi flag "rw"');
  });

  it('--vsock needs a CID that is not reserved; the socket is optional', () => {
    expect(parseVsock('cid=3', 'pci')).toEqual({ cid: 3, socket: undefined, transport: 'pci', features: NONE });
    expect(parseVsock('cid=4294967294,socket=/run/v.sock,transport=mmio', 'pci')).toMatchObject({ cid: 0xfffffffe, socket: '/run/v.sock', transport: 'mmio' });
    for (const bad of ['cid=0', 'cid=1', 'cid=2', 'cid=4294967295', 'cid=x', 'cid=-3']) expect(() => parseVsock(bad, 'pci')).toThrow(CliError);
    expect(() => parseVsock('socket=/a', 'pci')).toThrow('--vsock needs cid=N');
    expect(() => parseVsock('cid=3,socket=', 'pci')).toThrow('needs a path');
    expect(() => parseVsock('cid=3,port=5', 'pci')).toThrow('unknown --vsock option "port"');
  });

  it('--balloon: size in whole pages, statistics interval, flags', () => {
    expect(parseBalloon(true, 'pci')).toEqual({ pages: 0, statsSeconds: 0, deflateOnOom: false, freePageReporting: false, transport: 'pci', features: NONE });
    expect(parseBalloon('size=64M,stats=2,deflate_on_oom,free_page_reporting,transport=mmio', 'pci')).toMatchObject({
      pages: 16384,
      statsSeconds: 2,
      deflateOnOom: true,
      freePageReporting: true,
      transport: 'mmio',
    });
    expect(() => parseBalloon('size=1000', 'pci')).toThrow('invalid --balloon size "1000"');
    expect(() => parseBalloon('stats=1.5', 'pci')).toThrow('invalid --balloon stats "1.5"');
    expect(() => parseBalloon('oom', 'pci')).toThrow('invalid --balloon value "oom"');
  });

  it('--input is one of keyboard, mouse, tablet; --crypto takes only a transport and features', () => {
    expect(parseInput('tablet,transport=mmio', 'pci')).toEqual({ kind: 'tablet', socket: undefined, transport: 'mmio', features: NONE });
    expect(parseInput('mouse,socket=/run/in.sock', 'pci')).toMatchObject({ kind: 'mouse', socket: '/run/in.sock' });
    expect(() => parseInput('mouse,socket=', 'pci')).toThrow('needs a path');
    expect(() => parseInput('joystick', 'pci')).toThrow('invalid --input "joystick"');
    expect(() => parseInput('keyboard,mouse', 'pci')).toThrow(CliError);
    expect(parseCrypto(true, 'mmio')).toEqual({ transport: 'mmio', features: NONE });
    expect(() => parseCrypto('aes', 'pci')).toThrow('invalid --crypto value "aes"');
  });

  it('--pmem takes a file path and a transport', () => {
    expect(parsePmem('/p.img,transport=mmio', 'pci')).toEqual({ path: '/p.img', transport: 'mmio', features: NONE });
    expect(() => parsePmem('transport=mmio', 'pci')).toThrow('the file path comes first');
    expect(() => parsePmem('/p.img,dax', 'pci')).toThrow('unknown --pmem flag "dax"');
  });

  it('every device counts for the device thread (one notification slot each)', () => {
    const specs = { disks: [], nets: [], features: NONE };
    expect(deviceCount(specs)).toBe(0);
    const scsi = parseScsi('/a', 'pci');
    expect(deviceCount({ ...specs, scsi: [scsi, scsi], vsock: parseVsock('cid=3', 'pci'), balloon: parseBalloon(true, 'pci'), inputs: [parseInput('mouse', 'pci')], crypto: parseCrypto(true, 'pci'), pmem: [parsePmem('/p', 'pci')] })).toBe(7);
  });

  it('input socket lines become one device update each, ending with SYN_REPORT; malformed lines none', () => {
    const syn = { type: EV_SYN, code: 0, value: 0 };
    expect(inputLineEvents('abs 100 200')).toEqual([{ type: EV_ABS, code: ABS_X, value: 100 }, { type: EV_ABS, code: ABS_Y, value: 200 }, syn]);
    expect(inputLineEvents(`key ${KEY_A} 1`)).toEqual([{ type: EV_KEY, code: KEY_A, value: 1 }, syn]);
    expect(inputLineEvents(' rel -3 4 1 ')).toEqual([{ type: EV_REL, code: REL_X, value: -3 }, { type: EV_REL, code: REL_Y, value: 4 }, { type: EV_REL, code: REL_WHEEL, value: 1 }, syn]);
    for (const bad of ['', 'abs 1', 'abs 1 2 3', 'key 30 2', 'key 768 1', 'rel 1.5 2', 'abs 99999999999 0', 'jump 1 2']) expect(inputLineEvents(bad), bad).toBeUndefined();
  });

  it('the balloon statistics line: actual, the statistics the guest sent (bytes), reported pages', () => {
    const stats = new Map([
      [VIRTIO_BALLOON_S_MEMTOT, 400n << 20n],
      [VIRTIO_BALLOON_S_MEMFREE, 100n << 20n],
    ]);
    expect(balloonStatsLine(16384, 512, stats)).toBe(`balloon: actual 16384 pages, memtot ${400 << 20}, memfree ${100 << 20}, reported 512 pages`);
  });
});
