/**
 * The ioeventfd poller thread: blocks in poll(2) on every queue's ioeventfd (KVM signals them
 * on guest Queue Notify writes without leaving the guest), drains the ready ones, marks their
 * queues in the NotifySet and wakes the device thread. A write to `stopFd` ends it.
 */
import { workerData } from 'node:worker_threads';
import { EventFd, Poller } from '@virtio/kvm';
import { NotifySet } from './notify-set.js';

/** What the poller thread is given. */
export interface NotifierData {
  /** One entry per ioeventfd: its fd and the queue it notifies. */
  readonly queues: readonly { readonly fd: number; readonly dev: number; readonly queue: number }[];
  readonly stopFd: number;
  readonly notify: SharedArrayBuffer;
}

const data = workerData as NotifierData;
const set = new NotifySet(data.notify);
const events = data.queues.map((q) => new EventFd(q.fd));
const stop = data.queues.length;
const poller = new Poller([...data.queues.map((q) => q.fd), data.stopFd]);
for (;;) {
  if (poller.wait(-1) === 0) continue;
  if (poller.ready(stop)) break;
  for (let i = 0; i < events.length; i++) {
    if (!poller.ready(i)) continue;
    events[i].read();
    set.mark(data.queues[i].dev, data.queues[i].queue);
  }
  set.wake();
}
