import { PD_ADDR, PDPT_ADDR, PML4_ADDR } from './layout.js';

const PRESENT = 0x1;
const WRITABLE = 0x2;
const PAGE_SIZE_2M = 0x80;

/**
 * Identity-mapped page tables for the first 4 GiB with 2 MiB pages: one PML4 at PML4_ADDR,
 * one PDPT at PDPT_ADDR, four page directories from PD_ADDR. Returns the bytes to place at
 * PML4_ADDR (0x6000 bytes: PML4, PDPT, 4 PDs contiguously); CR3 = PML4_ADDR.
 */
export function buildIdentityPageTables(): Uint8Array {
  const bytes = new Uint8Array(PD_ADDR + 4 * 0x1000 - PML4_ADDR);
  const dv = new DataView(bytes.buffer);
  const at = (addr: number) => addr - PML4_ADDR;
  dv.setUint32(at(PML4_ADDR), PDPT_ADDR | PRESENT | WRITABLE, true);
  for (let g = 0; g < 4; g++) {
    const pd = PD_ADDR + g * 0x1000;
    dv.setUint32(at(PDPT_ADDR) + g * 8, pd | PRESENT | WRITABLE, true);
    for (let i = 0; i < 512; i++) {
      const phys = g * 2 ** 30 + i * 2 ** 21;
      dv.setUint32(at(pd) + i * 8, (phys >>> 0) | PRESENT | WRITABLE | PAGE_SIZE_2M, true);
      dv.setUint32(at(pd) + i * 8 + 4, Math.floor(phys / 2 ** 32), true);
    }
  }
  return bytes;
}
