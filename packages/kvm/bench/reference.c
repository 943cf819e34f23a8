/* The same loops as bench/index.ts, in C: the reference the JS figures are printed next to.
   Usage: reference <loops>; prints "port-io <ns per exit>" and "immediate-exit <ns per run>". */
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e9 + t.tv_nsec;
}

int main(int argc, char **argv) {
  int loops = argc > 1 ? atoi(argv[1]) : 20000;
  int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  int vm = ioctl(kvm, KVM_CREATE_VM, 0);
  unsigned char *ram = mmap(NULL, 0x10000, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (kvm < 0 || vm < 0 || ram == MAP_FAILED) return 1;
  /* mov cx, loops; out 0x10, al; loop -4; hlt */
  unsigned char code[] = {0xb9, loops & 0xff, (loops >> 8) & 0xff, 0xe6, 0x10, 0xe2, 0xfc, 0xf4};
  memcpy(ram + 0x1000, code, sizeof code);
  struct kvm_userspace_memory_region region = {.slot = 0, .guest_phys_addr = 0, .memory_size = 0x10000, .userspace_addr = (unsigned long)ram};
  ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region);
  int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
  int size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
  struct kvm_run *run = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
  struct kvm_sregs sregs;
  ioctl(vcpu, KVM_GET_SREGS, &sregs);
  sregs.cs.base = 0;
  sregs.cs.selector = 0;
  ioctl(vcpu, KVM_SET_SREGS, &sregs);
  struct kvm_regs regs = {.rip = 0x1000, .rflags = 2};
  ioctl(vcpu, KVM_SET_REGS, &regs);
  int exits = 0;
  double start = now_ns();
  while (ioctl(vcpu, KVM_RUN, 0) == 0 && run->exit_reason == KVM_EXIT_IO) exits++;
  printf("port-io %.0f\n", (now_ns() - start) / exits);
  start = now_ns();
  for (int i = 0; i < loops; i++) {
    run->immediate_exit = 1;
    ioctl(vcpu, KVM_RUN, 0);
  }
  printf("immediate-exit %.0f\n", (now_ns() - start) / loops);
  return 0;
}
