/*
 * probe: a static test helper that performs one operation per argument
 * group and prints "OP ARG: OK" or "OP ARG: ENAME" for each, so tests can
 * assert the exact errno a sandbox produces. Built by `deno task build`
 * (ffi/build.ts) into ffi/build/probe; used only by tests/ and bench/.
 *
 *   probe read /etc/hostname bind 8080 exec /bin/true
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/swap.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <dirent.h>
#include <pthread.h>
#include <sys/ptrace.h>
#include <time.h>
#include <termios.h>
#include <unistd.h>

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

static int report(const char *op, const char *arg, int rc)
{
	if (rc < 0)
		printf("%s %s: %s\n", op, arg, strerrorname_np(errno));
	else
		printf("%s %s: OK\n", op, arg);
	fflush(stdout);
	return rc;
}

static int open_close(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static int read_file(const char *path)
{
	char c;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = read(fd, &c, 1) < 0 ? -1 : 0;
	close(fd);
	return rc;
}

static int list_dir(const char *path)
{
	DIR *d = opendir(path);
	if (!d)
		return -1;
	closedir(d);
	return 0;
}

static int exec_child(const char *path)
{
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		char *argv[] = { (char *)path, NULL };
		execve(path, argv, environ);
		int e = errno;
		if (write(pipefd[1], &e, sizeof(e)) < 0)
			_exit(126);
		_exit(127);
	}
	close(pipefd[1]);
	int e = 0;
	ssize_t n = read(pipefd[0], &e, sizeof(e));
	close(pipefd[0]);
	waitpid(pid, NULL, 0);
	if (n == (ssize_t)sizeof(e)) {
		errno = e;
		return -1;
	}
	return 0;
}

static int tcp(int port, int do_bind, int proto)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, proto);
	if (fd < 0)
		return -1;
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	int rc = do_bind ? bind(fd, (struct sockaddr *)&sa, sizeof(sa)) :
			   connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	int e = errno;
	close(fd);
	errno = e;
	return rc;
}

static int abstract_connect(const char *name)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = strlen(name);
	if (len > sizeof(sa.sun_path) - 1)
		len = sizeof(sa.sun_path) - 1;
	memcpy(sa.sun_path + 1, name, len);
	int rc = connect(fd, (struct sockaddr *)&sa,
			 offsetof(struct sockaddr_un, sun_path) + 1 + len);
	int e = errno;
	close(fd);
	errno = e;
	return rc;
}

/* Listens on an abstract unix socket, says so, and waits to be killed. */
static int abstract_listen(const char *name)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = strlen(name);
	if (fd < 0 || len > sizeof(sa.sun_path) - 1)
		return -1;
	memcpy(sa.sun_path + 1, name, len);
	if (bind(fd, (struct sockaddr *)&sa,
		 offsetof(struct sockaddr_un, sun_path) + 1 + len) < 0 ||
	    listen(fd, 16) < 0)
		return -1;
	printf("listening\n");
	fflush(stdout);
	for (;;)
		pause();
}

/* Opens path; OK when FD_CLOEXEC is set exactly when asked for, else EPROTO. */
static int open_flags(const char *path, int cloexec)
{
	int fd = open(path, O_RDONLY | (cloexec ? O_CLOEXEC : 0));
	if (fd < 0)
		return -1;
	int set = (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0;
	close(fd);
	if (set != cloexec) {
		errno = EPROTO;
		return -1;
	}
	return 0;
}

/*
 * The race: one thread keeps flipping SCRATCH/dir between a real directory
 * and a symlink to OUTSIDE while another opens SCRATCH/dir/secret and
 * creates SCRATCH/dir/made. Prints how often each side won; a read of the
 * outside secret is a leak.
 */
struct race {
	char dir[4096], real[4096], link[4096], secret[4096], made[4096];
	volatile int stop;
};

static void *flipper(void *arg)
{
	struct race *r = arg;
	while (!r->stop) {
		rename(r->link, r->dir);
		rename(r->dir, r->link);
		rename(r->real, r->dir);
		rename(r->dir, r->real);
	}
	return NULL;
}

static int race(const char *scratch, const char *outside, int n)
{
	struct race r = { .stop = 0 };
	snprintf(r.dir, sizeof(r.dir), "%s/dir", scratch);
	snprintf(r.real, sizeof(r.real), "%s/dir_real", scratch);
	snprintf(r.link, sizeof(r.link), "%s/dir_link", scratch);
	snprintf(r.secret, sizeof(r.secret), "%s/dir/secret", scratch);
	snprintf(r.made, sizeof(r.made), "%s/dir/made", scratch);
	mkdir(r.real, 0755);
	char inner[4200];
	snprintf(inner, sizeof(inner), "%s/secret", r.real);
	int fd = open(inner, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		if (write(fd, "inside\n", 7) < 0)
			return -1;
		close(fd);
	}
	if (symlink(outside, r.link) < 0)
		return -1;
	pthread_t t;
	pthread_create(&t, NULL, flipper, &r);
	int inside = 0, leaked = 0, refused = 0;
	for (int i = 0; i < n; i++) {
		char buf[16] = { 0 };
		fd = open(r.secret, O_RDONLY);
		if (fd >= 0) {
			if (read(fd, buf, sizeof(buf) - 1) > 0 &&
			    strncmp(buf, "inside", 6) == 0)
				inside++;
			else
				leaked++;
			close(fd);
		} else {
			refused++;
		}
		fd = open(r.made, O_WRONLY | O_CREAT, 0644);
		if (fd >= 0) {
			close(fd);
			unlink(r.made);
		}
	}
	r.stop = 1;
	pthread_join(t, NULL);
	printf("race counts: inside=%d refused=%d leaked=%d\n", inside, refused,
	       leaked);
	if (leaked) {
		errno = EXFULL; /* printed as EXFULL: something leaked */
		return -1;
	}
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/*
 * Times n connect()s of one UDP socket to ip:53, and n sendto()s of one
 * byte to it (each a brokered call under udp = "dns"); prints the medians.
 */
static int time_udp(const char *ip, int n)
{
	double *us = calloc(2 * n, sizeof(double)), *send_us = us + n;
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(53) };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int other = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || other < 0 || inet_pton(AF_INET, ip, &to.sin_addr) != 1)
		return -1;
	for (int i = 0; i < n; i++) {
		struct timespec a, b, c;
		clock_gettime(CLOCK_MONOTONIC, &a);
		if (connect(fd, (struct sockaddr *)&to, sizeof(to)) < 0)
			return -1;
		clock_gettime(CLOCK_MONOTONIC, &b);
		if (sendto(other, "", 1, 0, (struct sockaddr *)&to, sizeof(to)) < 0)
			return -1;
		clock_gettime(CLOCK_MONOTONIC, &c);
		us[i] = (b.tv_sec - a.tv_sec) * 1e6 + (b.tv_nsec - a.tv_nsec) / 1e3;
		send_us[i] = (c.tv_sec - b.tv_sec) * 1e6 + (c.tv_nsec - b.tv_nsec) / 1e3;
	}
	qsort(us, n, sizeof(double), cmp_double);
	qsort(send_us, n, sizeof(double), cmp_double);
	printf("time udp_connect: median_us=%.1f p95_us=%.1f n=%d\n", us[n / 2],
	       us[(int)(n * 0.95)], n);
	printf("time udp_sendto: median_us=%.1f p95_us=%.1f n=%d\n",
	       send_us[n / 2], send_us[(int)(n * 0.95)], n);
	close(fd);
	close(other);
	free(us);
	return 0;
}

/* Times n calls of one kind; prints the median and p95 in microseconds. */
static int time_calls(const char *kind, const char *path, int n)
{
	double *us = calloc(n, sizeof(double));
	char name[4200];
	for (int i = 0; i < n; i++) {
		struct timespec a, b;
		int fd;
		if (!strcmp(kind, "create"))
			snprintf(name, sizeof(name), "%s/f%d", path, i);
		clock_gettime(CLOCK_MONOTONIC, &a);
		if (!strcmp(kind, "read"))
			fd = open(path, O_RDONLY | O_CLOEXEC);
		else if (!strcmp(kind, "write"))
			fd = open(path, O_WRONLY | O_CLOEXEC);
		else
			fd = open(name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		clock_gettime(CLOCK_MONOTONIC, &b);
		if (fd < 0)
			return -1;
		close(fd);
		us[i] = (b.tv_sec - a.tv_sec) * 1e6 + (b.tv_nsec - a.tv_nsec) / 1e3;
	}
	qsort(us, n, sizeof(double), cmp_double);
	printf("time %s: median_us=%.1f p95_us=%.1f n=%d\n", kind, us[n / 2],
	       us[(int)(n * 0.95)], n);
	free(us);
	return 0;
}

/* open_tree(OPEN_TREE_CLONE) of src, then move_mount onto tgt. */
static void tree_bind(const char *src, const char *tgt)
{
	int fd = (int)syscall(428, AT_FDCWD, src, 1 | O_CLOEXEC);
	if (report("open_tree", src, fd) < 0)
		return;
	report("move_mount", tgt, (int)syscall(429, fd, "", AT_FDCWD, tgt, 4));
	close(fd);
}

/* fsopen(type), fsconfig(source = name), create, fsmount(attrs), move_mount. */
static void fs_object(const char *type, const char *name, unsigned attrs,
		      const char *tgt)
{
	int fd = (int)syscall(430, type, 1);
	if (report("fsopen", type, fd) < 0)
		return;
	if (report("fsconfig-source", name, (int)syscall(431, fd, 1, "source", name, 0)) < 0 ||
	    report("fsconfig-create", type, (int)syscall(431, fd, 6, NULL, NULL, 0)) < 0) {
		close(fd);
		return;
	}
	int m = (int)syscall(432, fd, 1, attrs);
	close(fd);
	if (report("fsmount", name, m) < 0)
		return;
	report("move_mount", tgt, (int)syscall(429, m, "", AT_FDCWD, tgt, 4));
	close(m);
}

static int set_attr(const char *tgt, unsigned set, unsigned clr)
{
	uint64_t attr[4] = { set, clr, 0, 0 };
	return (int)syscall(442, AT_FDCWD, tgt, 0, attr, sizeof(attr));
}

static int list_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return -1;
	int self = dirfd(d);
	struct dirent *e;
	printf("fds:");
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || atoi(e->d_name) == self)
			continue;
		printf(" %s", e->d_name);
	}
	printf("\n");
	fflush(stdout);
	closedir(d);
	return 0;
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *op = argv[i];
		const char *a = i + 1 < argc ? argv[i + 1] : "";
		const char *b = i + 2 < argc ? argv[i + 2] : "";
		if (!strcmp(op, "read"))
			report(op, a, read_file(a)), i++;
		else if (!strcmp(op, "write"))
			report(op, a, open_close(a, O_WRONLY)), i++;
		else if (!strcmp(op, "create"))
			report(op, a, open_close(a, O_WRONLY | O_CREAT | O_EXCL)), i++;
		else if (!strcmp(op, "truncate"))
			report(op, a, truncate(a, 0)), i++;
		else if (!strcmp(op, "ls"))
			report(op, a, list_dir(a)), i++;
		else if (!strcmp(op, "mkdir"))
			report(op, a, mkdir(a, 0755)), i++;
		else if (!strcmp(op, "rmdir"))
			report(op, a, rmdir(a)), i++;
		else if (!strcmp(op, "unlink"))
			report(op, a, unlink(a)), i++;
		else if (!strcmp(op, "rename"))
			report(op, a, rename(a, b)), i += 2;
		else if (!strcmp(op, "link"))
			report(op, a, link(a, b)), i += 2;
		else if (!strcmp(op, "symlink"))
			report(op, b, symlink(a, b)), i += 2;
		else if (!strcmp(op, "exec"))
			report(op, a, exec_child(a)), i++;
		else if (!strcmp(op, "bind"))
			report(op, a, tcp(atoi(a), 1, 0)), i++;
		else if (!strcmp(op, "connect"))
			report(op, a, tcp(atoi(a), 0, 0)), i++;
		else if (!strcmp(op, "mptcp"))
			report(op, a, tcp(atoi(a), 1, IPPROTO_MPTCP)), i++;
		else if (!strcmp(op, "kill"))
			report(op, a, kill(atoi(a), atoi(b))), i += 2;
		else if (!strcmp(op, "abstract"))
			report(op, a, abstract_connect(a)), i++;
		else if (!strcmp(op, "tree-bind"))
			tree_bind(a, b), i += 2;
		else if (!strcmp(op, "fs-object"))
			fs_object(a, b, (unsigned)atoi(argv[i + 3]), argv[i + 4]), i += 4;
		else if (!strcmp(op, "setattr"))
			report(op, a, set_attr(a, (unsigned)atoi(b), (unsigned)atoi(argv[i + 3]))), i += 3;
		else if (!strcmp(op, "mount"))
			report(op, a, mount("tmpfs", a, "tmpfs", 0, NULL)), i++;
		else if (!strcmp(op, "bind-mount"))
			report(op, b, mount(a, b, NULL, MS_BIND, NULL)), i += 2;
		else if (!strcmp(op, "umount"))
			report(op, a, umount2(a, 0)), i++;
		else if (!strcmp(op, "mount-proc"))
			report(op, a, mount("proc", a, "proc", 0, NULL)), i++;
		else if (!strcmp(op, "open-tree"))
			report(op, a, (int)syscall(428 /* open_tree */, AT_FDCWD, a, 1 /* OPEN_TREE_CLONE */)), i++;
		else if (!strcmp(op, "fsopen"))
			report(op, a, (int)syscall(430 /* fsopen */, a, 0)), i++;
		else if (!strcmp(op, "time-mount")) {
			/* n brokered tmpfs mount + umount pairs; prints the medians */
			int n = atoi(b);
			double *us = calloc(n, sizeof(double));
			for (int k = 0; k < n; k++) {
				struct timespec t0, t1;
				clock_gettime(CLOCK_MONOTONIC, &t0);
				if (mount("tmpfs", a, "tmpfs", 0, NULL) < 0 || umount2(a, 0) < 0)
					return report(op, a, -1), 1;
				clock_gettime(CLOCK_MONOTONIC, &t1);
				us[k] = (t1.tv_sec - t0.tv_sec) * 1e6 + (t1.tv_nsec - t0.tv_nsec) / 1e3;
			}
			qsort(us, n, sizeof(double), cmp_double);
			printf("time mount: median_us=%.1f p95_us=%.1f n=%d\n", us[n / 2], us[(int)(n * 0.95)], n);
			i += 2;
		} else if (!strcmp(op, "cd"))
			report(op, a, chdir(a)), i++;
		else if (!strcmp(op, "open-cloexec"))
			report(op, a, open_flags(a, 1)), i++;
		else if (!strcmp(op, "open-keep"))
			report(op, a, open_flags(a, 0)), i++;
		else if (!strcmp(op, "swapoff"))
			report(op, a, swapoff(a)), i++;
		else if (!strcmp(op, "kill-parent"))
			report(op, "0", kill(getppid(), 0));
		else if (!strcmp(op, "ptrace-parent"))
			report(op, "0", ptrace(PTRACE_ATTACH, getppid(), 0, 0));
		else if (!strcmp(op, "race"))
			report(op, a, race(a, b, atoi(argv[i + 3]))), i += 3;
		else if (!strcmp(op, "time"))
			time_calls(a, b, atoi(argv[i + 3])), i += 3;
		else if (!strcmp(op, "time-udp"))
			report(op, a, time_udp(a, atoi(b))), i += 2;
		else if (!strcmp(op, "listen-abstract"))
			report(op, a, abstract_listen(a)), i++;
		else if (!strcmp(op, "tiocsti")) {
			char c = ' ';
			report(op, "0", ioctl(0, TIOCSTI, &c));
		} else if (!strcmp(op, "fds"))
			list_fds();
		else if (!strcmp(op, "sleep"))
			sleep(atoi(a)), i++;
		else if (!strcmp(op, "exit"))
			exit(atoi(a));
		else if (!strcmp(op, "raise"))
			raise(atoi(a)), i++;
		else if (!strcmp(op, "print"))
			printf("%s\n", a), fflush(stdout), i++;
		else {
			fprintf(stderr, "probe: unknown operation %s\n", op);
			return 2;
		}
	}
	return 0;
}
