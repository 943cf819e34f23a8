/**
 * The Linux x86 boot protocol's setup header (Documentation/arch/x86/boot.rst), read from a
 * bzImage file. Offsets are those of the header inside the file (and inside boot_params).
 */
export const SETUP_HEADER_OFFSET = 0x1f1;
export const HDRS_MAGIC = 0x53726448; // "HdrS"
export const MIN_BOOT_PROTOCOL = 0x206;
/** loadflags bits. */
export const LOADED_HIGH = 0x01;
export const CAN_USE_HEAP = 0x80;
/** xloadflags bits. */
export const XLF_KERNEL_64 = 0x01;
export const XLF_CAN_BE_LOADED_ABOVE_4G = 0x02;

/** Why a file cannot be booted; the message is one line meant for the user. */
export class BootImageError extends Error {
  override name = 'BootImageError';
}

/** The fields of the setup header the VMM uses (sizes in bytes, addresses guest-physical). */
export interface SetupHeader {
  readonly setupSects: number;
  readonly version: number;
  readonly loadflags: number;
  readonly code32Start: number;
  readonly initrdAddrMax: number;
  readonly kernelAlignment: number;
  readonly relocatable: boolean;
  readonly xloadflags: number;
  readonly cmdlineSize: number;
  readonly prefAddress: number;
  readonly initSize: number;
  /** Offset in the file where the header ends (0x202 + the byte at 0x201). */
  readonly headerEnd: number;
  /** Offset in the file where the protected-mode kernel starts: (setup_sects + 1) * 512. */
  readonly kernelOffset: number;
}

/**
 * Parses and validates the setup header of a bzImage.
 * @throws BootImageError if the file is too short, lacks the "HdrS" magic, uses a boot
 *   protocol older than 2.06, or has no 64-bit entry point (XLF_KERNEL_64).
 */
export function parseSetupHeader(image: Uint8Array): SetupHeader {
  if (image.length < 0x268) throw new BootImageError(`not a bzImage: file is only ${image.length} bytes`);
  const dv = new DataView(image.buffer, image.byteOffset, image.byteLength);
  if (dv.getUint32(0x202, true) !== HDRS_MAGIC) throw new BootImageError('not a bzImage: no "HdrS" setup header magic');
  const version = dv.getUint16(0x206, true);
  if (version < MIN_BOOT_PROTOCOL) {
    throw new BootImageError(`boot protocol ${version >> 8}.${(version & 0xff).toString().padStart(2, '0')} is older than 2.06`);
  }
  const setupSects = image[0x1f1] === 0 ? 4 : image[0x1f1];
  const kernelOffset = (setupSects + 1) * 512;
  if (kernelOffset >= image.length) throw new BootImageError('not a bzImage: setup code runs past the end of the file');
  const xloadflags = version >= 0x20c ? dv.getUint16(0x236, true) : 0;
  if (!(xloadflags & XLF_KERNEL_64)) throw new BootImageError('kernel has no 64-bit entry point (XLF_KERNEL_64)');
  const headerEnd = 0x202 + image[0x201];
  return {
    setupSects,
    version,
    loadflags: image[0x211],
    code32Start: dv.getUint32(0x214, true),
    initrdAddrMax: dv.getUint32(0x22c, true),
    kernelAlignment: dv.getUint32(0x230, true),
    relocatable: image[0x234] !== 0,
    xloadflags,
    cmdlineSize: dv.getUint32(0x238, true),
    prefAddress: version >= 0x20a ? dv.getUint32(0x258, true) + dv.getUint32(0x25c, true) * 2 ** 32 : 0x100000,
    initSize: version >= 0x20a ? dv.getUint32(0x260, true) : 0,
    headerEnd: Math.min(headerEnd, 0x290),
    kernelOffset,
  };
}
