/*
 * Attack: under [net] udp = "dns", send datagrams somewhere other than a
 * nameserver on port 53.
 *
 *   udp_dns probe NAMESERVER OTHER
 *     Every route to OTHER:53 and NAMESERVER:5353 (connect, sendto,
 *     sendmsg, sendmmsg on unconnected and connected sockets, AF_UNSPEC,
 *     IPv4-mapped IPv6, a ping socket, sendmsg with the flags of
 *     landlockd's own listener hand-off, which the filter lets past the
 *     broker), beside the allowed NAMESERVER:53.
 *   udp_dns race NAMESERVER OTHER ROUNDS
 *     A second thread flips the address between NAMESERVER:53 and OTHER:53
 *     while this one connects and sends, and sendto's, in a loop: the
 *     broker must only ever act on what it checked. Prints how many calls
 *     succeeded and whether a connect ever ended up with OTHER as peer.
 *
 * Prints probe-style lines: "what: OK" (or a count) or "what: ERRNO".
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void report(const char *what, long r) {
  if (r >= 0)
    printf("%s: OK\n", what);
  else
    printf("%s: %s\n", what, strerrorname_np(errno));
}

static struct sockaddr_in v4(const char *ip, int port) {
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
  inet_pton(AF_INET, ip, &a.sin_addr);
  return a;
}

static struct sockaddr_in6 mapped(const char *ip, int port) {
  struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
  char text[64];
  snprintf(text, sizeof(text), "::ffff:%s", ip);
  inet_pton(AF_INET6, text, &a.sin6_addr);
  return a;
}

static int udp(void) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) {
    report("socket udp", -1);
    exit(1);
  }
  return fd;
}

static long via_sendmsg_flags(int fd, void *name, socklen_t len, int flags) {
  struct iovec iov = { .iov_base = "x", .iov_len = 1 };
  struct msghdr m = { .msg_name = name, .msg_namelen = len, .msg_iov = &iov,
                      .msg_iovlen = 1 };
  return sendmsg(fd, &m, flags);
}

static long via_sendmsg(int fd, void *name, socklen_t len) {
  return via_sendmsg_flags(fd, name, len, 0);
}

/*
 * The flags of landlockd's own listener hand-off (LL_LISTENER_SEND_FLAGS),
 * which the filter does not send to the broker.
 */
#define HANDOFF_FLAGS (MSG_NOSIGNAL | MSG_CMSG_CLOEXEC)

/* sendmmsg of one datagram to each address; the count sent. */
static long via_sendmmsg(int fd, struct sockaddr_in *to, int n) {
  struct iovec iov = { .iov_base = "x", .iov_len = 1 };
  struct mmsghdr m[4];
  memset(m, 0, sizeof(m));
  for (int i = 0; i < n; i++) {
    m[i].msg_hdr.msg_name = to ? &to[i] : NULL;
    m[i].msg_hdr.msg_namelen = to ? sizeof(to[i]) : 0;
    m[i].msg_hdr.msg_iov = &iov;
    m[i].msg_hdr.msg_iovlen = 1;
  }
  long r = sendmmsg(fd, m, n, 0);
  if (r > 0 && m[0].msg_len != 1) return -2; /* msg_len not written back */
  return r;
}

static void probe(const char *ns, const char *other) {
  struct sockaddr_in good = v4(ns, 53), bad = v4(other, 53),
                     port = v4(ns, 5353);
  int fd = udp();
  report("sendto nameserver", sendto(fd, "x", 1, 0, (void *)&good, sizeof(good)));
  report("sendto other", sendto(fd, "x", 1, 0, (void *)&bad, sizeof(bad)));
  report("sendto port 5353", sendto(fd, "x", 1, 0, (void *)&port, sizeof(port)));
  struct sockaddr_in unspec = bad;
  unspec.sin_family = AF_UNSPEC;
  report("sendto AF_UNSPEC other", sendto(fd, "x", 1, 0, (void *)&unspec, sizeof(unspec)));
  report("sendmsg nameserver", via_sendmsg(fd, &good, sizeof(good)));
  report("sendmsg other", via_sendmsg(fd, &bad, sizeof(bad)));
  report("sendmsg other with the hand-off flags",
         via_sendmsg_flags(fd, &bad, sizeof(bad), HANDOFF_FLAGS));
  struct sockaddr_in pair[2] = { good, bad };
  long n = via_sendmmsg(fd, pair, 2);
  printf("sendmmsg nameserver+other: %ld\n", n);
  struct sockaddr_in first_bad[2] = { bad, good };
  report("sendmmsg other+nameserver", via_sendmmsg(fd, first_bad, 2));
  report("send unconnected", send(fd, "x", 1, 0));

  report("connect other", connect(fd, (void *)&bad, sizeof(bad)));
  report("connect port 5353", connect(fd, (void *)&port, sizeof(port)));
  report("connect nameserver", connect(fd, (void *)&good, sizeof(good)));
  report("send connected", send(fd, "x", 1, 0));
  report("write connected", write(fd, "x", 1));
  report("sendmsg connected", via_sendmsg(fd, NULL, 0));
  report("sendmmsg connected", via_sendmmsg(fd, NULL, 2));
  report("sendto other while connected", sendto(fd, "x", 1, 0, (void *)&bad, sizeof(bad)));
  struct sockaddr dis = { .sa_family = AF_UNSPEC };
  report("connect AF_UNSPEC", connect(fd, &dis, sizeof(dis)));
  close(fd);

  int fd6 = socket(AF_INET6, SOCK_DGRAM, 0);
  struct sockaddr_in6 m_bad = mapped(other, 53), m_good = mapped(ns, 53);
  report("ipv6 sendto mapped other", sendto(fd6, "x", 1, 0, (void *)&m_bad, sizeof(m_bad)));
  report("ipv6 sendto mapped nameserver", sendto(fd6, "x", 1, 0, (void *)&m_good, sizeof(m_good)));
  report("ipv6 sendto ipv4 other", sendto(fd6, "x", 1, 0, (void *)&bad, sizeof(bad)));
  close(fd6);

  report("socket ping", socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP));
  report("socket ping6", socket(AF_INET6, SOCK_DGRAM, IPPROTO_ICMPV6));
  report("socket tcp", socket(AF_INET, SOCK_STREAM, 0));
}

static struct sockaddr_in shared;
static volatile int stop;

static void *flipper(void *arg) {
  struct sockaddr_in *two = arg;
  for (unsigned i = 0; !stop; i++)
    memcpy((void *)&shared, &two[i & 1], sizeof(shared));
  return NULL;
}

static void race(const char *ns, const char *other, int rounds) {
  struct sockaddr_in two[2] = { v4(ns, 53), v4(other, 53) };
  shared = two[0];
  pthread_t t;
  pthread_create(&t, NULL, flipper, two);
  long connected = 0, refused = 0, sent = 0, escaped = 0;
  for (int i = 0; i < rounds; i++) {
    int fd = udp();
    if (connect(fd, (void *)&shared, sizeof(shared)) == 0) {
      connected++;
      struct sockaddr_in peer;
      socklen_t len = sizeof(peer);
      getpeername(fd, (void *)&peer, &len);
      if (peer.sin_addr.s_addr == two[1].sin_addr.s_addr)
        escaped++;
      send(fd, "c", 1, 0);
    } else {
      refused++;
    }
    if (sendto(fd, "s", 1, 0, (void *)&shared, sizeof(shared)) == 1)
      sent++;
    close(fd);
  }
  stop = 1;
  pthread_join(t, NULL);
  printf("connected: %ld\nrefused: %ld\nsent: %ld\nescaped: %ld\n", connected,
         refused, sent, escaped);
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc == 4 && strcmp(argv[1], "probe") == 0)
    probe(argv[2], argv[3]);
  else if (argc == 5 && strcmp(argv[1], "race") == 0)
    race(argv[2], argv[3], atoi(argv[4]));
  else {
    fprintf(stderr, "usage: udp_dns probe NS OTHER | race NS OTHER ROUNDS\n");
    return 2;
  }
  return 0;
}
