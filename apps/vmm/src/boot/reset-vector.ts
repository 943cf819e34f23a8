/**
 * Guest-physical address a CPU (or Linux's machine_real_restart) jumps to on reset: F000:FFF0.
 * Under hardware-reduced ACPI, Linux reboots by "EFI" and, with no EFI, falls back to
 * BOOT_BIOS: it switches to real mode and jumps here. There is no BIOS, so the VMM puts a
 * stub here that performs the ACPI reset.
 */
export const RESET_VECTOR_ADDR = 0xffff0;

/**
 * 16-bit real-mode code: `mov dx, port; mov al, value; out dx, al; 1: hlt; jmp 1b` — writes
 * the ACPI reset value to the reset register (the VMM then ends the run as a reboot).
 */
export function resetStub(port: number, value: number): Uint8Array {
  return Uint8Array.of(0xba, port & 0xff, port >> 8, 0xb0, value & 0xff, 0xee, 0xf4, 0xeb, 0xfd);
}
