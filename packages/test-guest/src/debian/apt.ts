import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Runs an apt tool and returns its stdout. @throws Error with apt's stderr when it fails. */
async function apt(tool: string, args: string[], cwd?: string): Promise<string> {
  const sandbox = process.getuid?.() === 0 && tool === 'apt-get' ? ['-o', 'APT::Sandbox::User=root'] : [];
  try {
    const { stdout } = await run(tool, [...sandbox, ...args], { cwd, maxBuffer: 64 << 20 });
    return stdout;
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`${tool} ${args.join(' ')} failed: ${(err.stderr || err.message).trim()}`);
  }
}

/** The candidate version apt would install for `pkg`, or undefined when apt knows no such package. */
export async function candidateVersion(pkg: string): Promise<string | undefined> {
  const out = await apt('apt-cache', ['show', '--no-all-versions', pkg]).catch(() => '');
  return /^Version: (\S+)$/m.exec(out)?.[1];
}

/** Package names matching an extended regular expression (apt-cache search --names-only). */
export async function searchNames(pattern: string): Promise<string[]> {
  const out = await apt('apt-cache', ['search', '--names-only', pattern]);
  return out
    .split('\n')
    .map((l) => l.split(' - ')[0].trim())
    .filter(Boolean);
}

/**
 * Package names of the `Depends` and `PreDepends` lines of `apt-cache depends` output, every
 * alternative included, in order, without duplicates; virtual packages (`<name>`) and the
 * providers apt lists under them are left out.
 */
export function parseDepends(text: string): string[] {
  const names: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*\|?(?:Pre)?Depends: ([^\s<>]+)\s*$/.exec(line);
    if (m && !names.includes(m[1])) names.push(m[1]);
  }
  return names;
}

/** The direct dependencies of `pkg` (Depends and PreDepends, see parseDepends). */
export async function depends(pkg: string): Promise<string[]> {
  const flags = ['--no-recommends', '--no-suggests', '--no-conflicts', '--no-breaks', '--no-replaces', '--no-enhances'];
  return parseDepends(await apt('apt-cache', ['depends', ...flags, pkg]));
}

/** Refreshes the package lists (needs root, as on a fresh CI machine). */
export async function update(): Promise<void> {
  await apt('apt-get', ['update', '-qq']);
}

/** Downloads `pkg`'s .deb into `dir` without installing it; returns nothing (the .deb is in `dir`). */
export async function download(pkg: string, dir: string): Promise<void> {
  await apt('apt-get', ['download', '-qq', pkg], dir);
}

/** Unpacks a .deb's files into `dir` (dpkg-deb -x). */
export async function unpack(deb: string, dir: string): Promise<void> {
  await run('dpkg-deb', ['-x', deb, dir], { maxBuffer: 64 << 20 });
}
