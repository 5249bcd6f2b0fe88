/*
 * io_uring by raw system calls (no liburing), shared by the attack
 * programs that use it (baseline_uring.c, egress_uring.c): a ring of four
 * entries, one operation submitted and waited for at a time. Prints
 * probe-style lines through report(): "what: OK" or "what: ERRNO".
 */
#ifndef LANDLOCKD_TEST_URING_H
#define LANDLOCKD_TEST_URING_H

#define _GNU_SOURCE
#include <errno.h>
#include <linux/io_uring.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

static inline void report(const char *what, int r) {
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
static inline int ring_open(struct ring *r) {
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

/* Submits one prepared SQE and waits: its result, or -1 with errno. */
static inline int ring_run(struct ring *r, const struct io_uring_sqe *prepared) {
  unsigned tail = *r->sq_tail;
  unsigned idx = tail & *r->sq_mask;
  r->sqes[idx] = *prepared;
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

static inline int ring_socket(struct ring *r, int domain, int type, int protocol) {
  struct io_uring_sqe sqe;
  memset(&sqe, 0, sizeof sqe);
  sqe.opcode = IORING_OP_SOCKET;
  sqe.fd = domain;
  sqe.off = (unsigned)type;
  sqe.len = (unsigned)protocol;
  return ring_run(r, &sqe);
}

static inline int ring_connect(struct ring *r, int fd, const struct sockaddr_in *a) {
  struct io_uring_sqe sqe;
  memset(&sqe, 0, sizeof sqe);
  sqe.opcode = IORING_OP_CONNECT;
  sqe.fd = fd;
  sqe.addr = (unsigned long)a;
  sqe.off = sizeof *a;
  return ring_run(r, &sqe);
}

#endif
