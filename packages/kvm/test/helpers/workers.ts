// Starting worker threads that run TypeScript modules of this package (see ts-worker.mjs).
import { Worker } from 'node:worker_threads';

/** A worker with its messages buffered from the start (none is lost between awaits). */
export interface TestWorker {
  worker: Worker;
  /** The next message, or a rejection after `ms` milliseconds or on a worker error. */
  next<T>(ms: number): Promise<T>;
}

/** Starts `module` (a path relative to this folder) in a worker; `data` arrives as workerData.data. */
export function startWorker(module: string, data: unknown): TestWorker {
  const worker = new Worker(new URL('./ts-worker.mjs', import.meta.url), {
    workerData: { module: new URL(module, import.meta.url).href, data },
  });
  const queue: unknown[] = [];
  let failure: Error | null = null;
  let wake: (() => void) | null = null;
  worker.on('message', (message) => {
    queue.push(message);
    wake?.();
  });
  worker.on('error', (error) => {
    failure = error;
    wake?.();
  });
  async function next<T>(ms: number): Promise<T> {
    const deadline = Date.now() + ms;
    while (queue.length === 0) {
      if (failure) throw failure;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no message from worker within ${ms} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = null;
    }
    return queue.shift() as T;
  }
  return { worker, next };
}
