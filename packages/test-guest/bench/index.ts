// `npm run bench`: rig and test-guest boot times (see rig.ts).
import { runBench } from './rig.js';

await runBench();
