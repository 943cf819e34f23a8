// Worker bootstrap: loads the TypeScript module named by workerData.module through tsx, so worker
// threads in the tests run this package's sources (Node's worker execArgv `--import tsx` does not
// apply to the worker's entry module on Node 20).
import { workerData } from 'node:worker_threads';
import { tsImport } from 'tsx/esm/api';

await tsImport(workerData.module, import.meta.url);
