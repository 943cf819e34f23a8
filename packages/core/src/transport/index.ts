export { VirtioTransportState, type TransportStateOptions, type DeviceQueueFactory } from './state.js';
export { QueueState, type QueueArea } from './queue-state.js';
export type { TransportCounters } from './counters.js';
export { allowedFeatures, offerProblems, type TransportKind } from './feature-rules.js';
export { decodeNotificationData, encodeNotificationData, type NotificationData } from './notification-data.js';
