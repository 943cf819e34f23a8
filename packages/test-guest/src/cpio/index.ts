export { CpioWriter } from './writer.js';
export { readCpio, type CpioEntry } from './reader.js';
