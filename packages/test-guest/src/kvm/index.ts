export { detectKvm, type KvmDetection, type KvmKind } from './detect.js';
