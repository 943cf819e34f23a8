export { buildRigL1, L1_INIT, L1_MODULES, RIG_MARK, type RigL1 } from './l1.js';
export { diagnoseConsole, L1_CMDLINE, RIG_QEMU, rigQemuArgs, runInRig } from './run.js';
export { rigJobScript, rigSetupScript, shellQuote } from './job.js';
