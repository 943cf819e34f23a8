import type { CheckDefinition } from './check.js';

/** `shell`: an interactive busybox shell on the console (controlling tty via cttyhack); `exit` continues. */
export const shellCheck: CheckDefinition = {
  name: 'shell',
  description: 'an interactive busybox shell on the console; exit to continue',
  shell: String.raw`echo "test guest shell (type exit to power off)"
setsid cttyhack sh
vmmtest_result true "\"status\":$?"`,
};
