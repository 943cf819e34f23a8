import { readSection } from '../elf/elf.js';

/** The fields of a kernel module's .modinfo section that dependency resolution uses. */
export interface ModInfo {
  /** The module's name as the kernel knows it (modinfo `name=`), e.g. "kvm_amd". */
  readonly name: string;
  /** Modules that must be loaded first (modinfo `depends=`), normalized with "_". */
  readonly depends: readonly string[];
  /** Every key=value pair of the section, repeated keys in order (alias, parm, ...). */
  readonly fields: ReadonlyMap<string, readonly string[]>;
}

/** Module names treat "-" and "_" alike ("virtio-rng" is "virtio_rng"); this is the canonical form. */
export function moduleName(name: string): string {
  return name.replace(/-/g, '_');
}

/**
 * Parses the NUL-separated key=value strings of a .modinfo section.
 * @param fallbackName used when the section has no `name=` (older kernels).
 */
export function parseModinfo(section: Uint8Array, fallbackName: string): ModInfo {
  const fields = new Map<string, string[]>();
  for (const entry of new TextDecoder().decode(section).split('\0')) {
    const eq = entry.indexOf('=');
    if (eq <= 0) continue;
    const key = entry.slice(0, eq);
    const list = fields.get(key) ?? [];
    list.push(entry.slice(eq + 1));
    fields.set(key, list);
  }
  const depends = (fields.get('depends') ?? [])
    .flatMap((d) => d.split(','))
    .map((d) => d.trim())
    .filter(Boolean)
    .map(moduleName);
  return { name: moduleName(fields.get('name')?.[0] ?? fallbackName), depends, fields };
}

/**
 * Reads the modinfo of an uncompressed .ko file's bytes.
 * @throws ElfError for a malformed ELF file; Error when it has no .modinfo section.
 */
export function readModinfo(ko: Uint8Array, fallbackName: string): ModInfo {
  const section = readSection(ko, '.modinfo');
  if (!section) throw new Error(`${fallbackName}: no .modinfo section`);
  return parseModinfo(section, fallbackName);
}
