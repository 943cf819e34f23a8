import { describe, expect, it } from 'vitest';
import { parseVmmtest, parseVmmtestLine, probedDevices } from '../src/guest/vmmtest.js';

describe('VMMTEST line parser', () => {
  it('parses results from serial output with CRLF, escape sequences and interleaved kernel messages', () => {
    const out = [
      '\u001bc\u001b[2JSeaBIOS',
      'VMMTEST {"check":"boot","ok":true,"uptime":1.5}',
      '[    2.0] virtio_blk virtio3: [vda] 32768 512-byte logical blocksVMMTEST {"check":"probe","ok":true,"devices":[{"name":"virtio0","device":2,"vendor":6900,"driver":"virtio_blk","status":15,"features":[9]}]}',
      'VMMTEST {"done":true,"ok":true}',
      '[    3.0] reboot: Power down',
    ].join('\r\n');
    const report = parseVmmtest(out);
    expect(report.results.map((r) => r.check)).toEqual(['boot', 'probe']);
    expect(report.results[0].uptime).toBe(1.5);
    expect(report).toMatchObject({ done: true, ok: true });
    expect(probedDevices(report)).toEqual([{ name: 'virtio0', device: 2, vendor: 6900, driver: 'virtio_blk', status: 15, features: [9] }]);
  });

  it('ignores malformed or cut lines and reports a run without the final line as not done and not ok', () => {
    const report = parseVmmtest('VMMTEST {"check":"boot","ok":tr\nVMMTEST [1,2]\nVMMTEST {"check":"x"}\nVMMTEST {"check":"boot","ok":false}\n');
    expect(report.results).toEqual([{ check: 'boot', ok: false }]);
    expect(report).toMatchObject({ done: false, ok: false });
    expect(probedDevices(report)).toEqual([]);
  });

  it('reports the final line\'s verdict', () => {
    expect(parseVmmtest('VMMTEST {"done":true,"ok":false}').ok).toBe(false);
    expect(parseVmmtestLine('no marker here')).toBeUndefined();
    expect(parseVmmtestLine('VMMTEST {"done":true,"ok":true}  ')).toEqual({ done: true, ok: true });
  });
});
