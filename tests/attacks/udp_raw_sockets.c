/*
 * Attack: get a socket that sends outside Landlock's TCP rules: a UDP or
 * UDP-Lite socket, an ICMP "ping" socket, a raw socket (root has
 * CAP_NET_RAW), the obsolete socket(AF_INET, SOCK_PACKET) spelling of a
 * packet socket, an AF_PACKET socket, or any of them through io_uring.
 *
 *   udp_raw_sockets
 *
 * Prints probe-style lines: "what: OK" or "what: ERRNO" (EACCES for a
 * ping socket outside net.ipv4.ping_group_range, EPERM without
 * CAP_NET_RAW: the kernel's own refusals, when the filter lets the call
 * through).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/io_uring.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef ETH_P_ALL
#define ETH_P_ALL 0x0003
#endif

static void try(const char *what, int domain, int type, int proto) {
  int fd = socket(domain, type, proto);
  if (fd >= 0) {
    printf("%s: OK\n", what);
    close(fd);
  } else {
    printf("%s: %s\n", what, strerrorname_np(errno));
  }
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  try("udp", AF_INET, SOCK_DGRAM, 0);
  try("udp6", AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_UDP);
  try("udplite", AF_INET, SOCK_DGRAM, IPPROTO_UDPLITE);
  try("ping", AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
  try("ping6", AF_INET6, SOCK_DGRAM, IPPROTO_ICMPV6);
  try("raw", AF_INET, SOCK_RAW, IPPROTO_ICMP);
  try("raw6", AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
  try("inet packet", AF_INET, SOCK_PACKET, htons(ETH_P_ALL));
  try("packet", AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
  try("packet dgram", AF_PACKET, SOCK_DGRAM, htons(ETH_P_ALL));
  try("tcp", AF_INET, SOCK_STREAM, 0);
  try("unix dgram", AF_UNIX, SOCK_DGRAM, 0);
  struct io_uring_params p;
  memset(&p, 0, sizeof(p));
  long r = syscall(SYS_io_uring_setup, 4, &p);
  printf("io_uring_setup: %s\n", r >= 0 ? "OK" : strerrorname_np(errno));
  return 0;
}
