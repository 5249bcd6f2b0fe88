/*
 * Attack: as root in a sandbox whose [net] restricts something (so
 * CAP_NET_ADMIN, CAP_SYS_ADMIN, CAP_SYS_MODULE and CAP_BPF are gone), use
 * the capabilities and calls that remain to reach a host the policy
 * forbids or to change the host's network state.
 *
 *   net_caps_escape UDP_PORT [PID [NETLINK_PORTID]]
 *
 * UDP_PORT: a UDP port on 127.0.0.1 that a listener outside watches (the
 * raw probe sends "raw-udp" there). PID: a process outside the sandbox
 * (landlockd, by default or with 0 the parent) to trace, read and take descriptors
 * from. NETLINK_PORTID: a NETLINK_USERSOCK socket outside to send to.
 *
 * The sysctl probes write back the value they read: they show the write
 * is possible and change nothing.
 *
 * Prints probe-style lines: "what: OK" or "what: ERRNO" ("what: SIGSYS"
 * when the process that tried was killed).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
#define X32_BIT 0x40000000L

static void report(const char *what, long r) {
  if (r >= 0) printf("%s: OK\n", what);
  else printf("%s: %s\n", what, strerrorname_np(errno));
}

/* Runs fn in a child; reports a signal that killed it, else its status
 * (0 = OK, else an errno). */
static void in_child(const char *what, int (*fn)(void)) {
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) _exit(fn());
  int st;
  waitpid(pid, &st, 0);
  if (WIFSIGNALED(st)) printf("%s: %s\n", what, sigabbrev_np(WTERMSIG(st)));
  else if (WEXITSTATUS(st) == 0) printf("%s: OK\n", what);
  else printf("%s: %s\n", what, strerrorname_np(WEXITSTATUS(st)));
}

/* i386 socketcall(SYS_SOCKET, {AF_VSOCK, SOCK_STREAM, 0}) by int $0x80
 * from this 64-bit process (the kernel runs it as an i386 call). */
static int i386_socketcall(void) {
  uint32_t *args = mmap((void *)0x10000, 4096, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
                        -1, 0);
  if (args == MAP_FAILED) return errno;
  args[0] = AF_VSOCK;
  args[1] = SOCK_STREAM;
  args[2] = 0;
  long ret;
  __asm__ volatile("int $0x80"
                   : "=a"(ret)
                   : "a"(102L), "b"(1L), "c"((long)(uintptr_t)args)
                   : "memory", "r8", "r9", "r10", "r11");
  return ret >= 0 ? 0 : (int)-ret;
}

/* i386 socket(2) (number 359) the same way. */
static int i386_socket(void) {
  long ret;
  __asm__ volatile("int $0x80"
                   : "=a"(ret)
                   : "a"(359L), "b"((long)AF_VSOCK), "c"((long)SOCK_STREAM),
                     "d"(0L)
                   : "memory", "r8", "r9", "r10", "r11");
  return ret >= 0 ? 0 : (int)-ret;
}

/* The x32 ABI's socket (41 | X32_BIT). */
static int x32_socket(void) {
  long r = syscall(41 | X32_BIT, AF_VSOCK, SOCK_STREAM, 0);
  return r >= 0 ? 0 : errno;
}

/* A UDP datagram to 127.0.0.1:port through a raw IPPROTO_UDP socket. */
static void raw_udp(int port) {
  int fd = socket(AF_INET, SOCK_RAW, IPPROTO_UDP);
  if (fd < 0) {
    report("raw udp socket", -1);
    return;
  }
  printf("raw udp socket: OK\n");
  char pkt[sizeof(struct udphdr) + 7];
  struct udphdr *u = (struct udphdr *)pkt;
  memset(pkt, 0, sizeof(pkt));
  u->source = htons(40000);
  u->dest = htons(port);
  u->len = htons(sizeof(pkt));
  memcpy(pkt + sizeof(*u), "raw-udp", 7);
  struct sockaddr_in to = {.sin_family = AF_INET};
  inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
  report("raw udp sendto",
         sendto(fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&to, sizeof(to)));
  close(fd);
}

/* RTM_NEWADDR 127.77.0.1/32 on lo (removed after, if it worked). */
static void rtnl_addr(int type, const char *what) {
  int fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
  if (fd < 0) {
    report(what, -1);
    return;
  }
  struct {
    struct nlmsghdr nh;
    struct ifaddrmsg ifa;
    struct rtattr rta;
    struct in_addr a;
  } req;
  memset(&req, 0, sizeof(req));
  req.nh.nlmsg_len = sizeof(req);
  req.nh.nlmsg_type = type;
  req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK |
                       (type == RTM_NEWADDR ? NLM_F_CREATE | NLM_F_EXCL : 0);
  req.ifa.ifa_family = AF_INET;
  req.ifa.ifa_prefixlen = 32;
  req.ifa.ifa_index = if_nametoindex("lo");
  req.rta.rta_type = IFA_LOCAL;
  req.rta.rta_len = RTA_LENGTH(sizeof(struct in_addr));
  inet_pton(AF_INET, "127.77.0.1", &req.a);
  if (send(fd, &req, sizeof(req), 0) < 0) {
    report(what, -1);
    close(fd);
    return;
  }
  char buf[4096];
  ssize_t n = recv(fd, buf, sizeof(buf), 0);
  struct nlmsghdr *h = (struct nlmsghdr *)buf;
  if (n >= (ssize_t)sizeof(*h) && h->nlmsg_type == NLMSG_ERROR) {
    int e = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
    if (e == 0) printf("%s: OK\n", what);
    else printf("%s: %s\n", what, strerrorname_np(-e));
  } else printf("%s: no answer\n", what);
  close(fd);
}

/* SOCK_DESTROY (needs CAP_NET_ADMIN) of a TCP listener of our own on
 * 127.0.0.1, found by its address; a refusal leaves it listening. */
static void sock_destroy(void) {
  int l = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET};
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  socklen_t alen = sizeof(a);
  if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 ||
      listen(l, 1) < 0 || getsockname(l, (struct sockaddr *)&a, &alen) < 0) {
    report("sock_diag destroy", -1);
    return;
  }
  int fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_SOCK_DIAG);
  if (fd < 0) {
    report("sock_diag destroy", -1);
    return;
  }
  struct {
    struct nlmsghdr nh;
    struct inet_diag_req_v2 r;
  } req;
  memset(&req, 0, sizeof(req));
  req.nh.nlmsg_len = sizeof(req);
  req.nh.nlmsg_type = SOCK_DESTROY;
  req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  req.r.sdiag_family = AF_INET;
  req.r.sdiag_protocol = IPPROTO_TCP;
  req.r.idiag_states = ~0u;
  req.r.id.idiag_sport = a.sin_port;
  memcpy(req.r.id.idiag_src, &a.sin_addr, 4);
  req.r.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
  req.r.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
  send(fd, &req, sizeof(req), 0);
  char buf[4096];
  ssize_t n = recv(fd, buf, sizeof(buf), 0);
  struct nlmsghdr *h = (struct nlmsghdr *)buf;
  if (n >= (ssize_t)sizeof(*h) && h->nlmsg_type == NLMSG_ERROR) {
    int e = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
    printf("sock_diag destroy: %s\n", e == 0 ? "OK" : strerrorname_np(-e));
  } else printf("sock_diag destroy: no answer\n");
  close(fd);
  close(l);
}

/* A netlink datagram to a NETLINK_USERSOCK socket (any portid): the
 * kernel lets anyone send on that protocol. */
static void usersock(int portid) {
  int fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_USERSOCK);
  if (fd < 0) {
    report("netlink usersock send", -1);
    return;
  }
  struct sockaddr_nl to = {.nl_family = AF_NETLINK, .nl_pid = portid};
  char msg[NLMSG_SPACE(8)];
  memset(msg, 0, sizeof(msg));
  struct nlmsghdr *h = (struct nlmsghdr *)msg;
  h->nlmsg_len = sizeof(msg);
  memcpy(NLMSG_DATA(h), "usersock", 8);
  report("netlink usersock send",
         sendto(fd, msg, sizeof(msg), 0, (struct sockaddr *)&to, sizeof(to)));
  close(fd);
}

/* setns into the host's network namespace (the one this process is in:
 * no capability is needed to open its own), directly and from a new user
 * namespace, where the command holds every capability of that namespace
 * but none over the host's. */
static int setns_host_net(void) {
  int fd = open("/proc/self/ns/net", O_RDONLY);
  if (fd < 0) return errno;
  return setns(fd, CLONE_NEWNET) < 0 ? errno : 0;
}

static int userns_then_setns(void) {
  int fd = open("/proc/self/ns/net", O_RDONLY);
  if (fd < 0) return errno;
  if (unshare(CLONE_NEWUSER) < 0) return errno;
  return setns(fd, CLONE_NEWNET) < 0 ? errno : 0;
}

static int userns_netns_addr(void) {
  if (unshare(CLONE_NEWUSER | CLONE_NEWNET) < 0) return errno;
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct ifreq ifr = {0};
  strcpy(ifr.ifr_name, "lo");
  ifr.ifr_flags = IFF_UP;
  if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0) return errno;
  return 0;
}

static int tun(void) {
  int fd = open("/dev/net/tun", O_RDWR);
  if (fd < 0) return errno;
  struct ifreq ifr = {0};
  strcpy(ifr.ifr_name, "llattack0");
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) return errno;
  return 0;
}

static void sysctl_rewrite(const char *path) {
  char buf[256] = {0};
  int fd = open(path, O_RDONLY);
  if (fd < 0) {
    report(path, -1);
    return;
  }
  ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  /* Write back what is there: proves the write, changes nothing. */
  fd = open(path, O_WRONLY);
  if (fd < 0) {
    report(path, -1);
    return;
  }
  report(path, write(fd, buf, n));
  close(fd);
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  int port = argc > 1 ? atoi(argv[1]) : 9;
  pid_t victim = argc > 2 && atoi(argv[2]) > 0 ? atoi(argv[2]) : getppid();

  in_child("i386 socketcall vsock", i386_socketcall);
  in_child("i386 socket vsock", i386_socket);
  in_child("x32 socket vsock", x32_socket);
  raw_udp(port);
  rtnl_addr(RTM_NEWADDR, "rtnetlink newaddr");
  sock_destroy();
  if (argc > 3) usersock(atoi(argv[3]));
  report("iopl 3", syscall(SYS_iopl, 3));
  in_child("setns host net", setns_host_net);
  in_child("userns setns host net", userns_then_setns);
  in_child("userns netns lo up", userns_netns_addr);
  in_child("tun", tun);

  pid_t kid = fork();
  if (kid == 0) {
    pause();
    _exit(0);
  }
  report("ptrace seize own child", ptrace(PTRACE_SEIZE, kid, 0, 0));
  kill(kid, SIGKILL);
  waitpid(kid, NULL, 0);
  /* PTRACE_SEIZE does not stop the victim; the exit detaches. */
  report("ptrace seize", ptrace(PTRACE_SEIZE, victim, 0, 0));
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/mem", victim);
  report("proc mem write", open(path, O_RDWR));
  char b[8];
  struct iovec l = {b, 8}, r = {(void *)0x400000, 8};
  report("process_vm_writev", process_vm_writev(victim, &l, 1, &r, 1, 0));
  int pfd = syscall(SYS_pidfd_open, victim, 0);
  report("pidfd_open", pfd);
  if (pfd >= 0) report("pidfd_getfd", syscall(SYS_pidfd_getfd, pfd, 3, 0));
  snprintf(path, sizeof(path), "/proc/%d/ns/net", victim);
  report("victim ns open", open(path, O_RDONLY));

  sysctl_rewrite("/proc/sys/net/ipv4/ping_group_range");
  sysctl_rewrite("/proc/sys/kernel/core_pattern");
  int sv[2];
  report("socketpair tipc", socketpair(30, SOCK_SEQPACKET, 0, sv));
  report("socketpair vsock", socketpair(AF_VSOCK, SOCK_STREAM, 0, sv));
  report("inet packet", socket(AF_INET, SOCK_PACKET, htons(3)));
  return 0;
}
