import { describe, expect, it } from 'vitest';
import { runDirect } from '../src/run/direct.js';
import { runWhereKvmWorks } from '../src/run/where.js';

describe('direct runs (hardware KVM hosts)', () => {
  it('returns status, stdout and stderr, with opts.env added to the environment and cwd applied', async () => {
    const r = await runDirect(['sh', '-c', 'pwd; echo "$X" >&2; exit 3'], { cwd: '/', env: { X: 'from-env' }, timeoutMs: 60_000 }, 'why');
    expect(r).toEqual({ mode: 'direct', reason: 'why', status: 3, stdout: '/\n', stderr: 'from-env\n', timedOut: false });
  });

  it('kills the whole process group at the timeout and says so', async () => {
    const r = await runDirect(['sh', '-c', 'sleep 600 & sleep 600; echo never'], { timeoutMs: 300 }, 'why');
    expect(r).toMatchObject({ status: null, timedOut: true, stdout: '' });
    expect(r.infraFailure).toMatch(/^timed out after 0.3 s/);
  });

  it('reports a command that cannot be started instead of throwing', async () => {
    const r = await runDirect(['/nonexistent/program'], { timeoutMs: 60_000 }, 'why');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/ENOENT/);
  });
});

describe('runWhereKvmWorks arguments', () => {
  it('rejects an empty command and invalid environment names before running anything', async () => {
    await expect(runWhereKvmWorks([], { timeoutMs: 1000 })).rejects.toThrow(/empty command/);
    await expect(runWhereKvmWorks(['true'], { timeoutMs: 1000, env: { 'A B': '1' } })).rejects.toThrow(/invalid environment variable/);
  });
});
