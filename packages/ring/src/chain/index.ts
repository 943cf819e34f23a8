export { ChainReader } from './reader.js';
export { ChainWriter } from './writer.js';
