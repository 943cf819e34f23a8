export { runDirect } from './direct.js';
export type { RunOptions, RunResult } from './types.js';
export { kvmRunMode, runWhereKvmWorks, type KvmRunMode } from './where.js';
