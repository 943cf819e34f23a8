import { bootCheck } from './boot.js';
import type { CheckDefinition } from './check.js';
import { probeCheck } from './probe.js';
import { shellCheck } from './shell.js';

export type { CheckDefinition } from './check.js';
export { bootCheck, probeCheck, shellCheck };

/** The checks every test guest carries. */
export const builtinChecks: readonly CheckDefinition[] = [bootCheck, probeCheck, shellCheck];
