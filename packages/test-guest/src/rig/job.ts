import { dirname } from 'node:path';

/** Quotes a string for POSIX sh (single quotes). */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Host variables a rig command inherits (when set); the rest of the host environment stays out. */
export const RIG_ENV_PASSTHROUGH: readonly string[] = ['PATH', 'HOME', 'USER', 'LOGNAME', 'LANG', 'LC_ALL', 'TZ', 'TERM', 'CI', 'NODE_OPTIONS'];

/**
 * The shell script L1 runs in `chroot /host`: exports the environment, changes to `cwd`
 * (status 125 when it does not exist) and execs `argv`. The directory of Node's executable is
 * appended to PATH so `node` resolves as on the host.
 */
export function rigJobScript(argv: readonly string[], cwd: string, env: Readonly<Record<string, string>>, hostEnv = process.env): string {
  if (argv.length === 0) throw new Error('rig: empty command');
  const vars: Record<string, string> = {};
  for (const k of RIG_ENV_PASSTHROUGH) if (hostEnv[k] !== undefined) vars[k] = hostEnv[k] as string;
  vars.PATH = vars.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
  const nodeDir = dirname(process.execPath);
  if (!vars.PATH.split(':').includes(nodeDir)) vars.PATH += `:${nodeDir}`;
  vars.TMPDIR = '/tmp';
  Object.assign(vars, env);
  const lines = Object.entries(vars).map(([k, v]) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new Error(`rig: invalid environment variable name ${JSON.stringify(k)}`);
    return `export ${k}=${shellQuote(v)}`;
  });
  lines.push(`cd ${shellQuote(cwd)} || exit 125`, `exec ${argv.map(shellQuote).join(' ')}`);
  return `${lines.join('\n')}\n`;
}

/**
 * /ctl/setup.sh: the mode, L1's own deadline in seconds (it powers off then) and the writable
 * shares (tags rw0, rw1, ... mounted at their host paths).
 */
export function rigSetupScript(writableDirs: readonly string[], interactive: boolean, deadlineSeconds: number): string {
  const lines = [`RIG_INTERACTIVE=${interactive ? 1 : 0}`, `RIG_DEADLINE=${Math.ceil(deadlineSeconds)}`];
  writableDirs.forEach((dir, i) => {
    const at = shellQuote(`/host${dir}`);
    lines.push(`mkdir -p ${at} && mount -t 9p -o $RIG_9P rw${i} ${at} || rig_fail ${shellQuote(`cannot share ${dir} writable`)}`);
  });
  return `${lines.join('\n')}\n`;
}
