export { DEFAULT_LIBRARY_DIRS, sharedLibraries } from './ldd.js';
