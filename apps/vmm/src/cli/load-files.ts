import { readFileSync } from 'node:fs';
import { parseSetupHeader } from '../boot/setup-header.js';

/** A user-facing error: the CLI prints its message as one line and exits with status 1. */
export class CliError extends Error {
  override name = 'CliError';
}

/**
 * Reads a file named on the command line.
 * @throws CliError "cannot read <what> <path>: <reason>".
 */
export function readInput(what: string, path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (e as Error).message;
    throw new CliError(`cannot read ${what} ${path}: ${reason}`);
  }
}

/**
 * Reads and validates a bzImage (setup header, boot protocol, 64-bit entry).
 * @throws CliError when the file is missing or not a bootable bzImage.
 */
export function readKernel(path: string): Uint8Array {
  const image = readInput('kernel', path);
  try {
    parseSetupHeader(image);
  } catch (e) {
    throw new CliError(`${path}: ${(e as Error).message}`);
  }
  return image;
}
