// Queue numbering as Linux's virtio_balloon uses it: absent optional queues take no index, so
// without STATS_VQ the free page queue or the reporting queue is virtqueue 2 (the spec's table
// numbers them 2, 3, 4 when all are present).
import { featureMask, VIRTIO_F_VERSION_1 } from '@virtio/core';
import { describe, expect, it } from 'vitest';
import {
  balloonQueueCount,
  balloonQueueIndex,
  VIRTIO_BALLOON_F_FREE_PAGE_HINT,
  VIRTIO_BALLOON_F_MUST_TELL_HOST,
  VIRTIO_BALLOON_F_PAGE_REPORTING,
  VIRTIO_BALLOON_F_STATS_VQ,
  VIRTIO_BALLOON_FREE_PAGE_VQ,
  VIRTIO_BALLOON_REPORTING_VQ,
  VIRTIO_BALLOON_STATSQ,
} from '../src/index.js';
import { POOL_START, rawDriver, rig, settle } from './harness.js';

const V1 = featureMask(VIRTIO_F_VERSION_1);
const f = (...bits: number[]) => V1 | featureMask(...bits);

describe('balloon queue numbering', () => {
  it('follows the negotiated features: every optional queue present gives 2, 3, 4; absent ones take no index', () => {
    const all = f(VIRTIO_BALLOON_F_STATS_VQ, VIRTIO_BALLOON_F_FREE_PAGE_HINT, VIRTIO_BALLOON_F_PAGE_REPORTING);
    expect([VIRTIO_BALLOON_STATSQ, VIRTIO_BALLOON_FREE_PAGE_VQ, VIRTIO_BALLOON_REPORTING_VQ].map((q) => balloonQueueIndex(q, all))).toEqual([2, 3, 4]);
    expect(balloonQueueIndex(VIRTIO_BALLOON_REPORTING_VQ, f(VIRTIO_BALLOON_F_PAGE_REPORTING))).toBe(2);
    expect(balloonQueueIndex(VIRTIO_BALLOON_REPORTING_VQ, f(VIRTIO_BALLOON_F_STATS_VQ, VIRTIO_BALLOON_F_PAGE_REPORTING))).toBe(3);
    expect(balloonQueueIndex(VIRTIO_BALLOON_FREE_PAGE_VQ, f(VIRTIO_BALLOON_F_FREE_PAGE_HINT))).toBe(2);
    expect(balloonQueueIndex(VIRTIO_BALLOON_STATSQ, f(VIRTIO_BALLOON_F_PAGE_REPORTING))).toBeUndefined();
    expect(balloonQueueCount(all)).toBe(5);
    expect(balloonQueueCount(V1)).toBe(2);
  });

  it('the device has one queue per offered optional queue, numbered without gaps', () => {
    const r = rig({ balloonFeatures: [VIRTIO_BALLOON_F_MUST_TELL_HOST, VIRTIO_BALLOON_F_PAGE_REPORTING] });
    expect(r.dev.numQueues).toBe(3);
    expect(r.dev.queueMaxSize(2)).toBe(256);
    expect(r.dev.queueMaxSize(3)).toBe(0);
  });

  it('a driver that negotiated PAGE_REPORTING but not STATS_VQ reports on virtqueue 2, and the device takes it as a report', () => {
    const features = f(VIRTIO_BALLOON_F_PAGE_REPORTING);
    const r = rawDriver({}, features, [0, 1, VIRTIO_BALLOON_REPORTING_VQ]);
    expect(r.dd.queues[2]).toBeDefined();
    expect(r.dd.queues[4]).toBeUndefined();
    // A statsq at index 2 would take this device-writable chain as a malformed statistics buffer.
    expect(r.send(VIRTIO_BALLOON_REPORTING_VQ, [], [{ addr: POOL_START, len: 8192 }])).toBe(true);
    expect(r.dev.counters.reported).toBe(2);
    expect(r.needsReset()).toBe(false);
  });

  it('our driver without statistics reports free pages on virtqueue 2 and gets them acknowledged', async () => {
    const r = rig({}, { balloonFeatures: [VIRTIO_BALLOON_F_MUST_TELL_HOST, VIRTIO_BALLOON_F_PAGE_REPORTING] });
    expect(r.driver.device.queues.length).toBe(3);
    const reported = r.driver.reportFreePages(4);
    await settle();
    expect(await reported).toBe(4);
    expect(r.dev.counters.reported).toBe(4);
  });
});
