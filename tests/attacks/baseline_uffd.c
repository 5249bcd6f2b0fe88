/*
 * Attack: get a userfaultfd, with which a sandbox can make any read of its
 * memory block (a broker reading a path with process_vm_readv stalls until
 * the sandbox lets it go). Two routes:
 *
 *   baseline_uffd syscall   userfaultfd(2), kernel faults included and
 *                           user-mode only (what an unprivileged caller gets
 *                           under vm.unprivileged_userfaultfd=0)
 *   baseline_uffd dev       open /dev/userfaultfd, then
 *                           ioctl(USERFAULTFD_IOC_NEW); also the ioctl on
 *                           fd -1 (EBADF from the kernel, or the filter's
 *                           errno first), for callers who cannot open it
 *
 * Prints probe-style lines: "what: OK" or "what: ERRNO".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static void report(const char *what, long r) {
  if (r >= 0)
    printf("%s: OK\n", what);
  else
    printf("%s: %s\n", what, strerrorname_np(errno));
  fflush(stdout);
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "syscall") == 0) {
    report("userfaultfd", syscall(__NR_userfaultfd, O_CLOEXEC));
    report("userfaultfd user-mode",
           syscall(__NR_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY));
    return 0;
  }
  if (argc == 2 && strcmp(argv[1], "dev") == 0) {
    report("ioctl -1 USERFAULTFD_IOC_NEW",
           ioctl(-1, USERFAULTFD_IOC_NEW, O_CLOEXEC));
    int dev = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);
    report("open /dev/userfaultfd", dev);
    if (dev < 0) return 0;
    report("ioctl USERFAULTFD_IOC_NEW", ioctl(dev, USERFAULTFD_IOC_NEW, O_CLOEXEC));
    return 0;
  }
  fprintf(stderr, "usage: %s syscall | dev\n", argv[0]);
  return 2;
}
