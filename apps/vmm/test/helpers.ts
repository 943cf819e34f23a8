import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * A synthetic bzImage: setup header with "HdrS", protocol `version`, `setupSects` sectors,
 * XLF_KERNEL_64, relocatable, init_size, and `payload` bytes of protected-mode kernel.
 */
export function fakeBzImage(opts: { version?: number; setupSects?: number; xloadflags?: number; initSize?: number; payload?: number; cmdlineSize?: number; initrdAddrMax?: number; magic?: number } = {}): Uint8Array {
  const setupSects = opts.setupSects ?? 4;
  const img = new Uint8Array((setupSects + 1) * 512 + (opts.payload ?? 4096));
  const dv = new DataView(img.buffer);
  img[0x1f1] = setupSects;
  dv.setUint16(0x1fe, 0xaa55, true);
  img[0x200] = 0xeb;
  img[0x201] = 0x66; // jump: header ends at 0x268
  dv.setUint32(0x202, opts.magic ?? 0x53726448, true);
  dv.setUint16(0x206, opts.version ?? 0x20f, true);
  img[0x211] = 0x01; // LOADED_HIGH
  dv.setUint32(0x214, 0x100000, true);
  dv.setUint32(0x22c, opts.initrdAddrMax ?? 0x7fffffff, true);
  dv.setUint32(0x230, 0x200000, true);
  img[0x234] = 1;
  dv.setUint16(0x236, opts.xloadflags ?? 0x7f, true);
  dv.setUint32(0x238, opts.cmdlineSize ?? 2048, true);
  dv.setUint32(0x258, 0x1000000, true);
  dv.setUint32(0x260, opts.initSize ?? 0x800000, true);
  for (let i = (setupSects + 1) * 512; i < img.length; i++) img[i] = i & 0xff;
  return img;
}

/** The cached Debian test-guest kernel, if a previous build left one. */
export function cachedKernel(): string | undefined {
  const root = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'virtio-ts', 'debian');
  if (!existsSync(root)) return undefined;
  for (const d of readdirSync(root)) {
    if (!d.startsWith('linux-image-')) continue;
    const boot = join(root, d, 'root', 'boot');
    if (!existsSync(boot)) continue;
    const k = readdirSync(boot).find((f) => f.startsWith('vmlinuz-'));
    if (k) return join(boot, k);
  }
  return undefined;
}
