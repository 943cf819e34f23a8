// vitest globalSetup of apps/vmm: brings the bundle up to date on the host before any test
// runs bin/virtio-vmm.mjs (directly, or inside the nested rig, which cannot rebuild it over its
// read-only view of the host and would fall back to tsx). A failed build fails the run.
import { ensureBundle } from './build.mjs';

export async function setup() {
  await ensureBundle({ log: (line) => console.log(`virtio-vmm: ${line}`) });
}
