import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync, mkdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CpioWriter, readCpio } from '../src/cpio/index.js';

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'tg-cpio-'));
  dirs.push(d);
  return d;
}
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function sample(): CpioWriter {
  return new CpioWriter()
    .directory('bin')
    .directory('etc', 0o700)
    .file('bin/busybox', new Uint8Array([1, 2, 3, 4, 5]), 0o755)
    .symlink('bin/sh', 'busybox')
    .file('etc/motd', 'hello, guest\n')
    .file('empty', '');
}

describe('newc cpio writer', () => {
  it('is listed by GNU cpio -it, names in order', () => {
    const d = tmp();
    writeFileSync(join(d, 'a.cpio'), sample().charDevice('console', 5, 1).finish());
    const list = execFileSync('cpio', ['-it', '--quiet', '-F', join(d, 'a.cpio')], { encoding: 'utf8' });
    expect(list.trim().split('\n')).toEqual(['bin', 'etc', 'bin/busybox', 'bin/sh', 'etc/motd', 'empty', 'console']);
  });

  it('is extracted by GNU cpio -idv with contents, modes and link targets intact', () => {
    const d = tmp();
    writeFileSync(join(d, 'a.cpio'), sample().finish());
    const out = join(d, 'out');
    mkdirSync(out);
    execFileSync('cpio', ['-idv', '--quiet', '--no-absolute-filenames', '-F', join(d, 'a.cpio')], { cwd: out, stdio: 'pipe' });
    expect([...readFileSync(join(out, 'bin/busybox'))]).toEqual([1, 2, 3, 4, 5]);
    expect(statSync(join(out, 'bin/busybox')).mode & 0o7777).toBe(0o755);
    expect(readlinkSync(join(out, 'bin/sh'))).toBe('busybox');
    expect(readFileSync(join(out, 'etc/motd'), 'utf8')).toBe('hello, guest\n');
    expect(statSync(join(out, 'etc')).mode & 0o7777).toBe(0o700);
    expect(readFileSync(join(out, 'empty')).length).toBe(0);
  });

  it('round-trips through our reader, including device nodes, with 4-byte alignment', () => {
    const archive = sample().charDevice('dev/console', 5, 1, 0o600).finish();
    expect(archive.length % 4).toBe(0);
    const entries = readCpio(archive);
    expect(entries.map((e) => [e.name, e.type, e.mode])).toEqual([
      ['bin', 'directory', 0o755],
      ['etc', 'directory', 0o700],
      ['bin/busybox', 'file', 0o755],
      ['bin/sh', 'symlink', 0o777],
      ['etc/motd', 'file', 0o644],
      ['empty', 'file', 0o644],
      ['dev/console', 'char', 0o600],
    ]);
    expect(new TextDecoder().decode(entries[3].data)).toBe('busybox');
    expect([entries[6].rdevMajor, entries[6].rdevMinor]).toEqual([5, 1]);
  });

  it('writes byte-identical archives for equal inputs', () => {
    expect(Buffer.from(sample().finish()).equals(Buffer.from(sample().finish()))).toBe(true);
  });

  it('rejects paths that escape the archive root or are empty', () => {
    expect(() => new CpioWriter().file('../etc/passwd', 'x')).toThrow(/invalid entry path/);
    expect(() => new CpioWriter().file('a/../../b', 'x')).toThrow(/invalid entry path/);
    expect(() => new CpioWriter().directory('/')).toThrow(/invalid entry path/);
  });

  it('refuses entries after finish()', () => {
    const w = new CpioWriter();
    w.finish();
    expect(() => w.file('a', 'b')).toThrow(/already finished/);
  });
});

describe('newc cpio reader', () => {
  it('parses an archive written by GNU cpio -o -H newc', () => {
    const d = tmp();
    mkdirSync(join(d, 'tree/sub'), { recursive: true });
    writeFileSync(join(d, 'tree/sub/file.txt'), 'abc');
    symlinkSync('sub/file.txt', join(d, 'tree/link'));
    const archive = execFileSync('cpio', ['-o', '-H', 'newc', '--quiet'], { cwd: join(d, 'tree'), input: 'sub\nsub/file.txt\nlink\n' });
    const entries = readCpio(archive);
    expect(entries.map((e) => [e.name, e.type])).toEqual([
      ['sub', 'directory'],
      ['sub/file.txt', 'file'],
      ['link', 'symlink'],
    ]);
    expect(new TextDecoder().decode(entries[1].data)).toBe('abc');
  });

  it('throws on a bad magic, a truncated body and a missing trailer', () => {
    const good = sample().finish();
    const bad = good.slice();
    bad[0] = 0x31;
    expect(() => readCpio(bad)).toThrow(/bad magic/);
    expect(() => readCpio(good.subarray(0, 300))).toThrow(/truncated/);
    expect(() => readCpio(good.subarray(0, good.length - 124))).toThrow(/truncated/);
  });
});
