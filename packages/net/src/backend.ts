/**
 * The contract between the network device and whatever carries its frames (a TAP device, a
 * peer device, JavaScript code). A backend is runtime-neutral; Node-only backends live in
 * src/node/.
 */

/**
 * Receives frames from a backend. `header` is the 10-byte struct virtio_net_hdr prefix
 * (flags, gso_type, hdr_len, gso_size, csum_start, csum_offset; little-endian) when the
 * backend carries virtio-net headers ({@link NetBackend.vnetHeader}), else null. `frame` is
 * the Ethernet frame (destination MAC first, no FCS). A header's VIRTIO_NET_HDR_F_DATA_VALID
 * means the backend validated the checksum (spec 5.1.6.4: the device, here its backend, must
 * have). Both views are only valid during the
 * call: the receiver copies what it keeps. `more` is true when the backend is about to deliver
 * further frames at once (a burst): the device then defers its used buffer notification to the
 * last frame of the burst.
 */
export type NetReceiver = (frame: Uint8Array, header: Uint8Array | null, more?: boolean) => void;

/**
 * Offloads the driver negotiated for frames the device passes to it (the guest-bound
 * direction): the backend may only hand the device frames that use these (TUNSETOFFLOAD).
 */
export interface NetOffloads {
  /** VIRTIO_NET_F_GUEST_CSUM: partial checksums (NEEDS_CSUM) allowed. */
  readonly csum: boolean;
  /** VIRTIO_NET_F_GUEST_TSO4 */
  readonly tso4: boolean;
  /** VIRTIO_NET_F_GUEST_TSO6 */
  readonly tso6: boolean;
  /** VIRTIO_NET_F_GUEST_ECN */
  readonly ecn: boolean;
  /** VIRTIO_NET_F_GUEST_UFO */
  readonly ufo: boolean;
  /** VIRTIO_NET_F_GUEST_USO4: UDP segmentation (GSO_UDP_L4) over IPv4. */
  readonly uso4: boolean;
  /** VIRTIO_NET_F_GUEST_USO6: UDP segmentation (GSO_UDP_L4) over IPv6. */
  readonly uso6: boolean;
}

/**
 * A network backend.
 *
 * Back-pressure: the device calls {@link pause} when the guest has no receive buffers and
 * {@link resume} when it posted some. A paused backend stops calling the receiver (it keeps
 * its frames, or leaves them in the kernel); a frame delivered anyway is queued by the device,
 * never dropped, so pause must be honoured promptly to bound memory.
 */
export interface NetBackend {
  /**
   * Whether frames carry struct virtio_net_hdr: the device then offers the checksum and
   * segmentation offloads and passes headers through both ways.
   */
  readonly vnetHeader: boolean;
  /**
   * The backend validated the transport checksum of every frame whose header has
   * VIRTIO_NET_HDR_F_DATA_VALID (the kernel does for TAP). Otherwise the device verifies such
   * frames itself and clears the bit when it cannot confirm the checksum ([net.dev.47]).
   */
  readonly checksumsValidated?: boolean;
  /**
   * With {@link vnetHeader}: the backend carries UDP segmentation (gso_type
   * VIRTIO_NET_HDR_GSO_UDP_L4) both ways, so the device offers HOST_USO and GUEST_USO4/6
   * (TAP: kernels from 6.2 on). Default false.
   */
  readonly uso?: boolean;
  /**
   * Transmits one frame. `header` is the 12-byte struct virtio_net_hdr (num_buffers 0) when
   * {@link vnetHeader}, else null; `frame` is the frame as one or more views (zero-copy views of
   * guest memory: valid only during the call). Must not throw; a backend that cannot send
   * drops the frame, as a wire would.
   */
  send(header: Uint8Array | null, frame: readonly Uint8Array[]): void;
  /** Starts (or re-targets) delivery of received frames to `receiver`; the backend starts paused. */
  start(receiver: NetReceiver): void;
  /** Stop calling the receiver until {@link resume}. */
  pause(): void;
  /** Deliver frames again. */
  resume(): void;
  /** The driver negotiated features: the offloads received frames may use. */
  setOffloads?(offloads: NetOffloads): void;
  /** Releases the backend's resources; no receiver call follows. */
  close(): void;
}
