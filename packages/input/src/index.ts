// Public exports of @virtio/input.
export * from './protocol.js';
export * from './event-codes.js';
export { keyboardDescription, mouseDescription, tabletDescription, type InputDeviceDescription } from './description.js';
export { InputConfigSpace, validateDescription } from './config.js';
export { keyEvents, relativeMoveEvents, absoluteMoveEvents } from './events.js';
export { InputDevice, INPUT_DEFAULT_RING_FEATURES, STATUS_EVENTS_PER_BUFFER, type InputDeviceOptions, type InputStats } from './device.js';
export { InputRequestError, type InputRequestErrorCode } from './errors.js';
export { CallbackStatusSink, RecordingStatusSink, type InputStatusSink } from './backends/status.js';
export { InputDriver, InputDriverError, type InputDriverOptions } from './driver.js';
export { queryInputConfig, queryInputDescription } from './query.js';
