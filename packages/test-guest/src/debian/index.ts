export { cacheRoot } from './cache.js';
export { fetchGuestPackages, type BusyboxPackage, type FetchOptions, type GuestPackages, type KernelPackage } from './packages.js';
