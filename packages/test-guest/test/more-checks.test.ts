// The scsi/vsock/balloon/input/crypto/pmem checks' failure paths that need no device, run in the
// host's sh, and the guest helper they use (built with the host's cc).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { balloonCheck, cryptoCheck, guestHelperFile, vsockCheck, type CheckDefinition } from '../src/checks/index.js';
import { readDynamicInfo } from '../src/elf/elf.js';
import { testGuestInit } from '../src/guest/init.js';
import { parseVmmtest, type VmmtestCheckResult } from '../src/guest/vmmtest.js';

const root = mkdtempSync(join(tmpdir(), 'tg-more-checks-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Runs one check with the /init helpers in the host's sh; `cmdline` is its kernel command line. */
function run(check: CheckDefinition, cmdline = ''): VmmtestCheckResult {
  const script = testGuestInit([check]);
  const helpers = script.slice(script.indexOf('VMMTEST_OK=true'), script.indexOf('VMMTEST_CHECK=modules'));
  const cmdFile = join(root, `cmdline-${check.name}`);
  writeFileSync(cmdFile, `console=ttyS0 ${cmdline}\n`);
  const out = execFileSync('sh', ['-c', `${helpers}\nVMMTEST_ERR=""\nVMMTEST_CHECK=${check.name}\ncheck_${check.name}`], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, VMMTEST_SYS: root, VMMTEST_CMDLINE: cmdFile },
  });
  const { results } = parseVmmtest(out);
  expect(results).toHaveLength(1);
  return results[0];
}

describe('device checks without their device', () => {
  it('balloon: no device bound to virtio_balloon is a failed find, with the size asked for', () => {
    expect(run(balloonCheck, 'vmmtest.balloon_mib=32')).toMatchObject({ ok: false, mib: 32, pages: 0, error: 'find: no device bound to virtio_balloon' });
  });

  it('vsock: without the helper nothing is tried; the ports come from the command line', () => {
    const r = run(vsockCheck, 'vmmtest.vsock_port=77 vmmtest.vsock_listen=88');
    expect(r).toMatchObject({ ok: false, port: 77, listen: 88, cid: '', received: '', served: '' });
    expect(r.error).toMatch(/^helper: no \/bin\/vmmtest-io/);
  });

  it('crypto: no virtio_crypto_aes_cbc in /proc/crypto is a failed find', () => {
    expect(run(cryptoCheck)).toMatchObject({ ok: false, drivers: [], error: 'find: no virtio_crypto_aes_cbc in /proc/crypto' });
  });
});

describe('guest helper', () => {
  it('is a static executable that names its modes and refuses unknown ones', () => {
    const helper = guestHelperFile(root);
    expect(helper.path).toBe('/bin/vmmtest-io');
    // Static: no interpreter and no shared libraries (the guest has no libc).
    expect(readDynamicInfo(readFileSync(helper.source!))).toMatchObject({ interpreter: undefined, needed: [] });
    const r = spawnSync(helper.source!, ['bogus'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/connect CID PORT LINE S \| serve PORT S \| cid \| cipher/);
  });
});
