import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheRoot } from '../debian/cache.js';
import type { ExtraFile } from '../guest/initramfs.js';

/** Guest path of the socket helper the `vsock` and `crypto` checks run (busybox has no AF_VSOCK or AF_ALG). */
export const GUEST_HELPER_PATH = '/bin/vmmtest-io';

/**
 * The helper's C source. Every mode is bounded by alarm(seconds) and exits non-zero with a
 * message on stderr when a step fails:
 * - `connect CID PORT LINE SECONDS`: AF_VSOCK stream to CID:PORT, writes LINE "\n", prints the
 *   first line it reads back.
 * - `serve PORT SECONDS`: listens on AF_VSOCK port PORT (any CID), accepts one connection, reads
 *   one line L, answers "ack L\n", prints L.
 * - `cid`: prints the guest's own context ID (IOCTL_VM_SOCKETS_GET_LOCAL_CID on /dev/vsock).
 * - `cipher DRIVER KEYHEX IVHEX SECONDS`: AF_ALG skcipher bound to the kernel driver name DRIVER
 *   (e.g. virtio_crypto_aes_cbc), encrypts stdin (whole blocks, at most 64 KiB) with KEY and IV,
 *   writes the ciphertext to stdout.
 */
export const GUEST_HELPER_SOURCE = String.raw`#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/vm_sockets.h>
#include <linux/if_alg.h>

static void die(const char *step) { fprintf(stderr, "%s: %s\n", step, strerror(errno)); exit(1); }

static int readline_fd(int fd, char *buf, int max) {
  int n = 0;
  while (n < max - 1) {
    ssize_t r = read(fd, buf + n, 1);
    if (r < 0) die("read");
    if (r == 0 || buf[n] == '\n') break;
    n++;
  }
  buf[n] = 0;
  return n;
}

static void writeall(int fd, const void *p, size_t n) {
  const char *c = p;
  while (n > 0) {
    ssize_t w = write(fd, c, n);
    if (w <= 0) die("write");
    c += w;
    n -= (size_t)w;
  }
}

static int unhex(const char *s, unsigned char *out, int max) {
  int n = 0;
  while (s[0] && s[1] && n < max) {
    unsigned int b;
    if (sscanf(s, "%2x", &b) != 1) return -1;
    out[n++] = (unsigned char)b;
    s += 2;
  }
  return n;
}

int main(int argc, char **argv) {
  char line[512];
  if (argc == 6 && strcmp(argv[1], "connect") == 0) {
    alarm(atoi(argv[5]));
    struct sockaddr_vm a = { .svm_family = AF_VSOCK, .svm_cid = (unsigned)strtoul(argv[2], 0, 10), .svm_port = (unsigned)strtoul(argv[3], 0, 10) };
    int s = socket(AF_VSOCK, SOCK_STREAM, 0);
    if (s < 0) die("socket");
    if (connect(s, (struct sockaddr *)&a, sizeof a) < 0) die("connect");
    snprintf(line, sizeof line, "%s\n", argv[4]);
    writeall(s, line, strlen(line));
    readline_fd(s, line, sizeof line);
    printf("%s\n", line);
    return 0;
  }
  if (argc == 4 && strcmp(argv[1], "serve") == 0) {
    alarm(atoi(argv[3]));
    struct sockaddr_vm a = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY, .svm_port = (unsigned)strtoul(argv[2], 0, 10) };
    int s = socket(AF_VSOCK, SOCK_STREAM, 0);
    if (s < 0) die("socket");
    if (bind(s, (struct sockaddr *)&a, sizeof a) < 0) die("bind");
    if (listen(s, 1) < 0) die("listen");
    int c = accept(s, 0, 0);
    if (c < 0) die("accept");
    readline_fd(c, line, sizeof line - 8);
    char reply[520];
    snprintf(reply, sizeof reply, "ack %s\n", line);
    writeall(c, reply, strlen(reply));
    close(c);
    printf("%s\n", line);
    return 0;
  }
  if (argc == 2 && strcmp(argv[1], "cid") == 0) {
    unsigned int cid = 0;
    int fd = open("/dev/vsock", O_RDONLY);
    if (fd < 0) die("open /dev/vsock");
    if (ioctl(fd, IOCTL_VM_SOCKETS_GET_LOCAL_CID, &cid) < 0) die("ioctl");
    printf("%u\n", cid);
    return 0;
  }
  if (argc == 6 && strcmp(argv[1], "cipher") == 0) {
    alarm(atoi(argv[5]));
    unsigned char key[64], iv[16], in[65536], out[65536];
    int klen = unhex(argv[3], key, sizeof key), ivlen = unhex(argv[4], iv, sizeof iv);
    if (klen <= 0 || ivlen != 16) { fprintf(stderr, "args: bad key or iv\n"); return 1; }
    size_t n = 0;
    ssize_t r;
    while (n < sizeof in && (r = read(0, in + n, sizeof in - n)) > 0) n += (size_t)r;
    struct sockaddr_alg sa = { .salg_family = AF_ALG, .salg_type = "skcipher" };
    strncpy((char *)sa.salg_name, argv[2], sizeof sa.salg_name - 1);
    int t = socket(AF_ALG, SOCK_SEQPACKET, 0);
    if (t < 0) die("socket");
    if (bind(t, (struct sockaddr *)&sa, sizeof sa) < 0) die("bind");
    if (setsockopt(t, SOL_ALG, ALG_SET_KEY, key, klen) < 0) die("setkey");
    int o = accept(t, 0, 0);
    if (o < 0) die("accept");
    char cbuf[CMSG_SPACE(4) + CMSG_SPACE(sizeof(struct af_alg_iv) + 16)];
    memset(cbuf, 0, sizeof cbuf);
    struct iovec io = { .iov_base = in, .iov_len = n };
    struct msghdr m = { .msg_control = cbuf, .msg_controllen = sizeof cbuf, .msg_iov = &io, .msg_iovlen = 1 };
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_ALG; c->cmsg_type = ALG_SET_OP; c->cmsg_len = CMSG_LEN(4);
    *(unsigned *)CMSG_DATA(c) = ALG_OP_ENCRYPT;
    c = CMSG_NXTHDR(&m, c);
    c->cmsg_level = SOL_ALG; c->cmsg_type = ALG_SET_IV; c->cmsg_len = CMSG_LEN(sizeof(struct af_alg_iv) + 16);
    struct af_alg_iv *aiv = (struct af_alg_iv *)CMSG_DATA(c);
    aiv->ivlen = 16;
    memcpy(aiv->iv, iv, 16);
    if (sendmsg(o, &m, 0) != (ssize_t)n) die("sendmsg");
    size_t got = 0;
    while (got < n && (r = read(o, out + got, n - got)) > 0) got += (size_t)r;
    if (got != n) die("read");
    writeall(1, out, n);
    return 0;
  }
  fprintf(stderr, "usage: vmmtest-io connect CID PORT LINE S | serve PORT S | cid | cipher DRIVER KEYHEX IVHEX S\n");
  return 2;
}
`;

/**
 * The helper compiled statically with the host's `cc` (cached under the test guest cache by a
 * hash of the source), as an initramfs file at {@link GUEST_HELPER_PATH}. Pass it to
 * `buildTestGuest({ extraFiles })` for the `vsock` and `crypto` checks.
 * @throws Error when cc (with a static libc) is missing or the build fails.
 */
export function guestHelperFile(cacheDir: string = cacheRoot()): ExtraFile {
  const hash = createHash('sha256').update(GUEST_HELPER_SOURCE).digest('hex').slice(0, 16);
  const dir = join(cacheDir, 'helpers');
  const bin = join(dir, `vmmtest-io-${hash}`);
  if (!existsSync(bin)) {
    mkdirSync(dir, { recursive: true });
    const src = `${bin}.${process.pid}.c`;
    writeFileSync(src, GUEST_HELPER_SOURCE);
    try {
      execFileSync('cc', ['-static', '-Os', '-s', '-o', `${bin}.${process.pid}`, src], { stdio: ['ignore', 'ignore', 'pipe'] });
    } finally {
      rmSync(src, { force: true });
    }
    renameSync(`${bin}.${process.pid}`, bin);
  }
  return { path: GUEST_HELPER_PATH, source: bin, mode: 0o755 };
}
