import type { PortBackend } from './backend.js';

/** A {@link PortBackend} from functions: `write` gets the guest's output (valid during the call only). */
export class CallbackPortBackend implements PortBackend {
  constructor(
    readonly write: (data: Uint8Array) => void,
    readonly guestOpened?: (open: boolean) => void,
  ) {}
}
