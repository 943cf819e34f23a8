import type { CheckDefinition } from './check.js';

/** `boot`: the guest reached /init; reports the kernel's uptime in seconds at that moment. */
export const bootCheck: CheckDefinition = {
  name: 'boot',
  description: 'the guest reached /init; uptime (s) when /init started',
  shell: `vmmtest_result true "\\"uptime\\":$VMMTEST_UPTIME"`,
};
