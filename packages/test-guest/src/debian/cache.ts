import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * The directory where downloaded packages and built images are kept, outside the repository:
 * `$VIRTIO_TS_CACHE`, else `${XDG_CACHE_HOME:-~/.cache}/virtio-ts`.
 */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.VIRTIO_TS_CACHE) return env.VIRTIO_TS_CACHE;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'virtio-ts');
}
