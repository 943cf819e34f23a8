// Typed errors of the TAP backend.
import { constants } from 'node:os';

const names = new Map<number, string>();
for (const [name, value] of Object.entries(constants.errno)) if (!names.has(value)) names.set(value, name);

const hints: Record<string, string> = {
  ENOENT: '/dev/net/tun is missing: load the tun module (modprobe tun) or, in a container, pass the device in (--device /dev/net/tun)',
  EPERM: 'creating a TAP device needs CAP_NET_ADMIN (run as root, or create it beforehand with `ip tuntap add mode tap user <you>`)',
  EACCES: 'no permission to open /dev/net/tun or to attach to this TAP device',
  EBUSY: 'the TAP name is busy: another process holds that interface',
  EINVAL: 'the kernel refused the TAP settings (an existing interface of another kind or with other flags under this name?)',
};

/** A failed system call of the TAP backend: `call` names it, `code` is the errno name (`ENOENT`, `EBUSY` ...). */
export class TapError extends Error {
  readonly call: string;
  readonly errno: number;
  readonly code: string;
  constructor(call: string, errno: number) {
    const code = names.get(errno) ?? `E${errno}`;
    super(`${call} failed: ${code}${hints[code] ? ` — ${hints[code]}` : ''}`);
    this.name = 'TapError';
    this.call = call;
    this.errno = errno;
    this.code = code;
  }
}
