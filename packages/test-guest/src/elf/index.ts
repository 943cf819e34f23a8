export { ElfError, readDynamicInfo, readSection, type ElfDynamicInfo } from './elf.js';
