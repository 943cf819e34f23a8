import type { GuestMemory } from '@virtio/ring';
import type { BalloonStats, PageRange } from '../protocol.js';

/**
 * Host hooks the balloon device calls, synchronously, before it uses the chain that carried the
 * pages (so an acknowledged inflate/deflate/report has been seen by the host). Ranges are
 * guest-physical, page-aligned (4096 bytes) and already checked to lie inside guest memory.
 * A hook that throws marks the device DEVICE_NEEDS_RESET.
 */
export interface BalloonBackend {
  /** The guest gave these pages to the balloon (inflateq): the host may reclaim their backing memory. */
  inflate?(ranges: readonly PageRange[], memory: GuestMemory): void;
  /** The guest takes these pages back (deflateq): the host must back them again before the ack. */
  deflate?(ranges: readonly PageRange[], memory: GuestMemory): void;
  /**
   * The guest reported these pages free (reporting_vq). `poison` is poison_val when
   * VIRTIO_BALLOON_F_PAGE_POISON was negotiated: the host must then leave the pages unmodified
   * or filled with that value ([balloon.dev.14]).
   */
  report?(ranges: readonly PageRange[], memory: GuestMemory, poison: number | undefined): void;
  /** The guest hinted these pages free under command ID `cmdId` (free_page_vq), valid until the device sets DONE. */
  hint?(ranges: readonly PageRange[], memory: GuestMemory, cmdId: number): void;
  /** The device set free_page_hint_cmd_id to DONE: the host must no longer modify hinted pages ([balloon.dev.10]). */
  hintsDone?(): void;
  /** The driver delivered memory statistics (statsq). */
  stats?(stats: BalloonStats): void;
}
