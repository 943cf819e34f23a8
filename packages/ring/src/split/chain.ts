import { ReusableChain } from '../queue/reusable-chain.js';

/**
 * A chain popped from a split queue. The queue keeps one per head index and refills it when
 * that head is popped again, which can only happen after the chain was pushed.
 */
export class SplitChain extends ReusableChain {}
