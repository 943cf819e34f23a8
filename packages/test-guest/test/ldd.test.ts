import { execFileSync } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ElfError, readDynamicInfo } from '../src/elf/index.js';
import { sharedLibraries } from '../src/libs/index.js';

/** The files `ldd` says a program loads (the vDSO excluded), as real paths. */
function lddFiles(program: string): string[] {
  return execFileSync('ldd', [program], { encoding: 'utf8' })
    .split('\n')
    .map((l) => /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(l)?.[1])
    .filter((p): p is string => p !== undefined)
    .map((p) => realpathSync(p))
    .sort();
}

describe('ELF dynamic section and ldd-style resolution', () => {
  const programs = ['/bin/ls', process.execPath];

  it('reads the interpreter and DT_NEEDED of a dynamic program', () => {
    const info = readDynamicInfo(readFileSync('/bin/ls'));
    expect(info.interpreter).toBe('/lib64/ld-linux-x86-64.so.2');
    expect(info.needed).toContain('libc.so.6');
  });

  it.each(programs)('resolves the same files as ldd for %s', (program) => {
    const ours = sharedLibraries(program).map((p) => realpathSync(p)).sort();
    expect(ours).toEqual(lddFiles(program));
  });

  it('throws ElfError for garbage and for a truncated program', () => {
    expect(() => readDynamicInfo(new TextEncoder().encode('#!/bin/sh\necho not elf\n'.padEnd(80)))).toThrow(ElfError);
    expect(() => readDynamicInfo(readFileSync('/bin/ls').subarray(0, 200))).toThrow(ElfError);
  });
});
