export { moduleName, parseModinfo, readModinfo, type ModInfo } from './modinfo.js';
export { modulesDep, resolveModules, type ModuleLookup, type ModuleResolution, type ResolvedModule } from './resolve.js';
export { ModuleTree } from './tree.js';
