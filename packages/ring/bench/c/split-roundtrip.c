/*
 * Reference for the ring benchmark: the split virtqueue round trip of bench/index.ts in C.
 *
 * Same layout (VIRTIO 1.4, 2.7: 16-byte descriptors, available ring, used ring with
 * VIRTIO_F_EVENT_IDX fields, queue size 256, kept full), same steps per round trip:
 * device pop (available idx read with acquire, idx-jump check, head bound, head-in-flight
 * check, chain walk with a loop budget, flag checks, readable-after-writable, every buffer
 * bounded to guest memory, total length < 2^32, avail_event store) -> device push (used
 * element, used idx store with release, written <= writable bytes) -> driver reap (used idx
 * acquire, idx ahead check, id in flight, len clamped, descriptors freed, used_event store)
 * -> driver add + kick (descriptors, available ring entry, available idx store, avail_event
 * read, vring_need_event). Built with `cc -O2` by `npm run bench`; prints round trips per
 * second. Usage: split-roundtrip <segments> <seconds>. With -DSEQ_CST every shared-field
 * store is sequentially consistent, as JavaScript's Atomics.store is (an xchg on x86-64).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef SEQ_CST
#define STORE_SHARED(p, v) __atomic_store_n((p), (v), __ATOMIC_SEQ_CST)
#define LOAD_SHARED(p) __atomic_load_n((p), __ATOMIC_SEQ_CST)
#else
#define STORE_SHARED(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define LOAD_SHARED(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#endif
/* The store-load barrier the spec asks for before reading the other side's event index. */
#define FULL_BARRIER() __atomic_thread_fence(__ATOMIC_SEQ_CST)

#define QSIZE 256u
#define MASK (QSIZE - 1)
#define MEM_SIZE (1u << 24)
#define F_NEXT 1
#define F_WRITE 2
#define F_INDIRECT 4

struct desc { uint64_t addr; uint32_t len; uint16_t flags; uint16_t next; };
struct avail { uint16_t flags; uint16_t idx; uint16_t ring[QSIZE]; uint16_t used_event; };
struct used_elem { uint32_t id; uint32_t len; };
struct used { uint16_t flags; uint16_t idx; struct used_elem ring[QSIZE]; uint16_t avail_event; };
struct seg { uint64_t addr; uint32_t len; };

static uint8_t *mem;
static struct desc *desc;
static struct avail *avail;
static struct used *used;

/* Device side. */
static uint16_t last_avail, avail_shadow, used_idx;
static uint8_t outstanding[QSIZE];
struct chain { uint32_t id; uint32_t nr, nw; uint64_t rlen, wlen; struct seg r[QSIZE], w[QSIZE]; };
static struct chain chains[QSIZE];

/* Driver side. */
static uint16_t next_free[QSIZE], count[QSIZE], free_head, num_free, avail_idx, added, last_used;
static uint32_t writable_bytes[QSIZE];
static struct seg *tokens[QSIZE];

static int need_event(uint16_t event, uint16_t next, uint16_t old) {
  return (uint16_t)(next - event - 1) < (uint16_t)(next - old);
}

static void fail(const char *what) {
  fprintf(stderr, "malformed ring: %s\n", what);
  exit(1);
}

static int in_memory(uint64_t addr, uint32_t len) { return addr <= MEM_SIZE && len <= MEM_SIZE - addr; }

static struct chain *pop(void) {
  if (avail_shadow == last_avail) {
    avail_shadow = LOAD_SHARED(&avail->idx);
    if (avail_shadow == last_avail) return NULL;
    if ((uint16_t)(avail_shadow - last_avail) > QSIZE) fail("avail-index-jump");
  }
  uint16_t head = avail->ring[last_avail & MASK];
  if (head >= QSIZE) fail("descriptor-index-out-of-range");
  if (outstanding[head]) fail("head-in-flight");
  struct chain *c = &chains[head];
  c->id = head;
  c->nr = c->nw = 0;
  c->rlen = c->wlen = 0;
  uint32_t budget = 0;
  uint16_t i = head;
  for (;;) {
    if (++budget > QSIZE) fail("chain-too-long");
    struct desc d = desc[i];
    if (d.flags & F_INDIRECT) fail("indirect-not-negotiated");
    if (!in_memory(d.addr, d.len)) fail("address-out-of-range");
    if (d.flags & F_WRITE) {
      c->w[c->nw].addr = d.addr;
      c->w[c->nw++].len = d.len;
      c->wlen += d.len;
    } else {
      if (c->nw) fail("readable-after-writable");
      c->r[c->nr].addr = d.addr;
      c->r[c->nr++].len = d.len;
      c->rlen += d.len;
    }
    if (!(d.flags & F_NEXT)) break;
    i = d.next;
    if (i >= QSIZE) fail("descriptor-index-out-of-range");
  }
  if (c->rlen + c->wlen >= (1ull << 32)) fail("length-overflow");
  last_avail++;
  outstanding[head] = 1;
  STORE_SHARED(&used->avail_event, last_avail);
  return c;
}

static void push(struct chain *c, uint32_t written) {
  if (!outstanding[c->id]) fail("bad-used-id");
  if (written > c->wlen) fail("bad-used-len");
  struct used_elem *e = &used->ring[used_idx & MASK];
  e->id = c->id;
  e->len = written;
  STORE_SHARED(&used->idx, ++used_idx);
  outstanding[c->id] = 0;
}

static int needs_notification(uint16_t *signalled) {
  uint16_t old = *signalled;
  *signalled = used_idx;
  FULL_BARRIER();
  return need_event(LOAD_SHARED(&avail->used_event), used_idx, old);
}

static struct seg *reap(uint32_t *len) {
  uint16_t idx = LOAD_SHARED(&used->idx);
  if (idx == last_used) return NULL;
  if ((uint16_t)(idx - last_used) > QSIZE - num_free) fail("bad-used-id (idx ahead)");
  struct used_elem e = used->ring[last_used & MASK];
  if (e.id >= QSIZE || count[e.id] == 0) fail("bad-used-id");
  *len = e.len < writable_bytes[e.id] ? e.len : writable_bytes[e.id];
  struct seg *token = tokens[e.id];
  uint16_t n = count[e.id], last = e.id;
  for (uint16_t k = 1; k < n; k++) last = next_free[last];
  next_free[last] = free_head;
  free_head = e.id;
  num_free += n;
  count[e.id] = 0;
  tokens[e.id] = NULL;
  STORE_SHARED(&avail->used_event, ++last_used);
  return token;
}

static int add(struct seg *in, uint32_t n, struct seg *token) {
  if (n == 0 || n > QSIZE) return -1;
  if (num_free < n) return 0;
  uint64_t bytes = 0;
  for (uint32_t k = 0; k < n; k++) bytes += in[k].len;
  if (bytes >= (1ull << 32)) return -1;
  uint16_t head = free_head, d = head, last = head;
  for (uint32_t k = 0; k < n; k++) {
    desc[d].addr = in[k].addr;
    desc[d].len = in[k].len;
    desc[d].flags = F_WRITE | (k + 1 < n ? F_NEXT : 0);
    last = d;
    d = next_free[d];
    desc[last].next = d;
  }
  free_head = next_free[last];
  num_free -= n;
  count[head] = n;
  writable_bytes[head] = (uint32_t)bytes;
  tokens[head] = token;
  avail->ring[(avail_idx + added) & MASK] = head;
  added++;
  return 1;
}

static int kick(void) {
  uint16_t old = avail_idx;
  avail_idx += added;
  added = 0;
  STORE_SHARED(&avail->idx, avail_idx);
  FULL_BARRIER();
  return need_event(LOAD_SHARED(&used->avail_event), avail_idx, old);
}

/* This process's CPU time, as the JavaScript side measures: the machine is shared. */
static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  uint32_t segments = argc > 1 ? (uint32_t)atoi(argv[1]) : 1;
  double seconds = argc > 2 ? atof(argv[2]) : 1;
  if (segments < 1 || segments > QSIZE) return 2;
  mem = aligned_alloc(4096, MEM_SIZE);
  memset(mem, 0, MEM_SIZE);
  desc = (struct desc *)(mem + 0x1000);
  avail = (struct avail *)(mem + 0x2000);
  used = (struct used *)(mem + 0x3000);
  for (uint32_t i = 0; i < QSIZE; i++) next_free[i] = (i + 1) & MASK;
  num_free = QSIZE;
  uint32_t in_flight = QSIZE / segments;
  struct seg *bufs = calloc((size_t)in_flight * segments, sizeof *bufs);
  for (uint32_t k = 0; k < in_flight * segments; k++) {
    bufs[k].addr = 0x10000 + 512ull * k;
    bufs[k].len = 512;
  }
  for (uint32_t k = 0; k < in_flight; k++) add(&bufs[k * segments], segments, &bufs[k * segments]);
  kick();
  uint16_t signalled = 0;
  unsigned long notifies = 0, ops = 0;
  double start = now(), t = start, warm_end = start + 0.2;
  int warming = 1;
  for (;;) {
    for (int k = 0; k < 10000; k++) {
      struct chain *c = pop();
      if (!c) fail("empty");
      push(c, 64);
      uint32_t len;
      struct seg *token = reap(&len);
      if (!token || len != 64) fail("reap");
      if (add(token, segments, token) != 1) fail("add");
      notifies += kick();
    }
    notifies += needs_notification(&signalled);
    t = now();
    if (warming) {
      if (t >= warm_end) { warming = 0; start = t; }
      continue;
    }
    ops += 10000;
    if (t - start >= seconds) break;
  }
  printf("%.0f %lu\n", ops / (t - start), notifies);
  return 0;
}
