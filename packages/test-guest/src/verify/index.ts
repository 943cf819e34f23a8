export { blkImageFacts, findDebugfs, type BlkImageFacts } from './blk.js';
