import { spawn } from 'node:child_process';
import type { RunOptions, RunResult } from './types.js';

/**
 * Runs `argv` on this host with process.env plus `opts.env`, killing its process group at
 * the timeout. Never rejects: a command that cannot be started is reported with status null
 * and the error in stderr.
 */
export function runDirect(argv: readonly string[], opts: RunOptions, reason: string): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), {
      cwd: opts.cwd,
      env: { ...process.env, ...opts.env },
      stdio: opts.interactive ? 'inherit' : ['ignore', 'pipe', 'pipe'],
      detached: !opts.interactive,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => err.push(b));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        if (child.pid !== undefined) process.kill(opts.interactive ? child.pid : -child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }, opts.timeoutMs);
    let spawnError: Error | undefined;
    child.on('error', (e) => (spawnError = e));
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({
        mode: 'direct',
        reason,
        status: timedOut ? null : code,
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString() + (spawnError ? `${spawnError.message}\n` : ''),
        timedOut,
        ...(timedOut ? { infraFailure: `timed out after ${opts.timeoutMs / 1000} s: the command was killed` } : {}),
      });
    });
  });
}
