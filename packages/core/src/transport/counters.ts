/**
 * What a transport refused or dropped, for diagnostics and tests. Guest mistakes never throw:
 * they are ignored as the spec says and counted here.
 */
export interface TransportCounters {
  /** Driver writes the spec does not allow in the current state (ignored). */
  ignoredWrites: number;
  /** Accesses outside a register file or the configuration space, or of the wrong width. */
  badAccesses: number;
  /** FEATURES_OK writes refused (the bit stays clear). */
  featuresRejected: number;
  /** Device notifications dropped because they came from a reset activation or queue. */
  droppedNotifications: number;
  /** Queue operations from a reset activation or queue, dropped without touching guest memory. */
  staleQueueOps: number;
}

export function newCounters(): TransportCounters {
  return { ignoredWrites: 0, badAccesses: 0, featuresRejected: 0, droppedNotifications: 0, staleQueueOps: 0 };
}
