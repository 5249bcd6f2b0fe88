/*
 * Attack: create sockets through io_uring (IORING_OP_SOCKET), which seccomp
 * never sees, to get what the seccomp baseline or a policy's deny list
 * refuses.
 *
 *   baseline_uring mptcp BIND_PORT CONNECT_PORT
 *     An MPTCP socket (the baseline refuses socket(2) with IPPROTO_MPTCP
 *     when [net] restricts TCP): Landlock's TCP rules do not cover MPTCP,
 *     so it binds an undeclared port and connects where TCP cannot.
 *   baseline_uring tcp CONNECT_PORT
 *     A TCP socket under [seccomp] deny = ["socket"], connected.
 *   baseline_uring calls
 *     io_uring_enter and io_uring_register on fd -1: EBADF from the kernel,
 *     or the errno a filter answers first.
 *
 * Prints probe-style lines: "what: OK" or "what: ERRNO". Raw syscalls, no
 * liburing.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/io_uring.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "uring.h"

static struct sockaddr_in loopback(int port) {
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((unsigned short)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

static int do_bind(int fd, int port) {
  struct sockaddr_in a = loopback(port);
  return bind(fd, (struct sockaddr *)&a, sizeof a);
}

static int do_connect(int fd, int port) {
  struct sockaddr_in a = loopback(port);
  return connect(fd, (struct sockaddr *)&a, sizeof a);
}

int main(int argc, char **argv) {
  char what[64];
  struct ring ring;
  if (argc == 4 && strcmp(argv[1], "mptcp") == 0) {
    int bind_port = atoi(argv[2]), connect_port = atoi(argv[3]);
    report("socket mptcp", socket(AF_INET, SOCK_STREAM, IPPROTO_MPTCP));
    int tcp = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    snprintf(what, sizeof what, "tcp bind %d", bind_port);
    report(what, do_bind(tcp, bind_port));
    close(tcp);
    tcp = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    snprintf(what, sizeof what, "tcp connect %d", connect_port);
    report(what, do_connect(tcp, connect_port));
    close(tcp);
    int rc = ring_open(&ring);
    report("io_uring_setup", rc);
    if (rc < 0) return 0;
    int fd = ring_socket(&ring, AF_INET, SOCK_STREAM, IPPROTO_MPTCP);
    report("uring socket mptcp", fd);
    if (fd < 0) return 0;
    snprintf(what, sizeof what, "uring mptcp bind %d", bind_port);
    report(what, do_bind(fd, bind_port));
    report("uring mptcp listen", listen(fd, 1));
    fd = ring_socket(&ring, AF_INET, SOCK_STREAM, IPPROTO_MPTCP);
    snprintf(what, sizeof what, "uring mptcp connect %d", connect_port);
    report(what, fd < 0 ? fd : do_connect(fd, connect_port));
    return 0;
  }
  if (argc == 3 && strcmp(argv[1], "tcp") == 0) {
    int connect_port = atoi(argv[2]);
    report("socket tcp", socket(AF_INET, SOCK_STREAM, IPPROTO_TCP));
    int rc = ring_open(&ring);
    report("io_uring_setup", rc);
    if (rc < 0) return 0;
    int fd = ring_socket(&ring, AF_INET, SOCK_STREAM, IPPROTO_TCP);
    report("uring socket tcp", fd);
    if (fd < 0) return 0;
    snprintf(what, sizeof what, "uring tcp connect %d", connect_port);
    report(what, do_connect(fd, connect_port));
    return 0;
  }
  if (argc == 2 && strcmp(argv[1], "calls") == 0) {
    report("io_uring_enter", (int)syscall(__NR_io_uring_enter, -1, 0, 0, 0,
                                          NULL, 0));
    report("io_uring_register",
           (int)syscall(__NR_io_uring_register, -1, 0, NULL, 0));
    return 0;
  }
  fprintf(stderr, "usage: %s mptcp BIND_PORT CONNECT_PORT | tcp CONNECT_PORT | calls\n",
          argv[0]);
  return 2;
}
