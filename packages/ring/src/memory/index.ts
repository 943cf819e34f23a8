export type { GuestMemory } from './guest-memory.js';
export { FlatGuestMemory } from './flat.js';
export { RegionGuestMemory, type GuestRegion } from './regions.js';
export { HOST_LITTLE_ENDIAN } from './endian.js';
export type { GuestBytes } from './bytes.js';
