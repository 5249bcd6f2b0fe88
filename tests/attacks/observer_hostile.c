/*
 * Attacks on the --explain / learn observer (broker/observer.ts), which
 * reads every observed call's arguments from the sandbox's memory:
 *
 *   observer_hostile garbage          bad pointers, unterminated paths at
 *                                     the end of a mapping, absurd lengths
 *   observer_hostile many N DIR       N distinct denied creates in DIR
 *   observer_hostile race N A B       one thread opens a buffer N times
 *                                     while another flips it between the
 *                                     paths A and B (and a non-terminated
 *                                     run of bytes)
 *   observer_hostile fifo N DIR       execs a FIFO, then N execs of a path
 *                                     another thread keeps swapping between
 *                                     a FIFO and a script (the observer
 *                                     reads the head of executed files)
 *
 * Each prints "NAME: done" when it gets through; the test asserts that
 * landlockd neither hangs, fails nor reports more than it may.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static void garbage(void)
{
	long page = sysconf(_SC_PAGESIZE);
	/* Two pages, the second unmapped: a path that runs off the end. */
	char *map = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(map + page, page);
	memset(map, 'a', page);
	map[0] = '/';
	void *bad[] = { (void *)1, (void *)-1L, (void *)0xffff800000000000UL,
			map + page, map };
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		syscall(SYS_openat, AT_FDCWD, bad[i], O_RDONLY);
		syscall(SYS_openat, AT_FDCWD, bad[i], O_WRONLY | O_CREAT, 0600);
		syscall(SYS_execve, bad[i], NULL, NULL);
		syscall(SYS_mkdirat, AT_FDCWD, bad[i], 0700);
		syscall(SYS_unlinkat, AT_FDCWD, bad[i], 0);
		syscall(SYS_renameat2, AT_FDCWD, bad[i], AT_FDCWD, bad[i], 0);
		syscall(SYS_linkat, AT_FDCWD, bad[i], AT_FDCWD, bad[i], 0);
		syscall(SYS_symlinkat, bad[i], AT_FDCWD, bad[i]);
		syscall(SYS_mknodat, AT_FDCWD, bad[i], S_IFIFO | 0600, 0);
		syscall(SYS_truncate, bad[i], 0);
		syscall(SYS_openat2, AT_FDCWD, "/etc/hostname", bad[i],
			(size_t)24);
		syscall(SYS_openat2, AT_FDCWD, "/etc/hostname", bad[i],
			(size_t)-1);
		int s = socket(AF_INET, SOCK_STREAM, 0);
		syscall(SYS_bind, s, bad[i], 16);
		syscall(SYS_connect, s, bad[i], 0xffffffffu);
		syscall(SYS_connect, s, bad[i], 1);
		close(s);
	}
	/* dirfds that are not directories, or not open */
	syscall(SYS_openat, 987654, "x", O_RDONLY);
	syscall(SYS_openat, 1, "x", O_RDONLY);
	syscall(SYS_execveat, 987654, "", NULL, NULL, 0x1000 /* EMPTY_PATH */);
	printf("garbage: done\n");
}

static void many(int n, const char *dir)
{
	char path[4096];
	int denied = 0;
	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/file-%06d", dir, i);
		int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		if (fd >= 0)
			close(fd);
		else if (errno == EACCES)
			denied++;
	}
	printf("many: denied %d\n", denied);
	printf("many: done\n");
}

static char shared[4096];
static const char *flip_a, *flip_b;
static volatile int stop;

static void *flipper(void *arg)
{
	(void)arg;
	size_t la = strlen(flip_a), lb = strlen(flip_b);
	for (unsigned k = 0; !stop; k++) {
		switch (k % 3) {
		case 0:
			memcpy(shared, flip_a, la + 1);
			break;
		case 1:
			memcpy(shared, flip_b, lb + 1);
			break;
		default:
			/* no NUL anywhere in the buffer, for a moment */
			memset(shared, 'z', sizeof(shared));
			break;
		}
	}
	return NULL;
}

static void race(int n, const char *a, const char *b)
{
	pthread_t t;
	flip_a = a;
	flip_b = b;
	memcpy(shared, a, strlen(a) + 1);
	pthread_create(&t, NULL, flipper, NULL);
	for (int i = 0; i < n; i++) {
		int fd = open(shared, O_RDONLY | O_CLOEXEC);
		if (fd >= 0)
			close(fd);
	}
	stop = 1;
	pthread_join(t, NULL);
	printf("race: done\n");
}

static const char *swap_dir;

static void *swapper(void *arg)
{
	(void)arg;
	char fifo[4096], reg[4096], tmp[4096], target[4096];
	snprintf(fifo, sizeof(fifo), "%s/fifo", swap_dir);
	snprintf(reg, sizeof(reg), "%s/script", swap_dir);
	snprintf(tmp, sizeof(tmp), "%s/tmp", swap_dir);
	snprintf(target, sizeof(target), "%s/target", swap_dir);
	while (!stop) {
		link(fifo, tmp);
		rename(tmp, target);
		link(reg, tmp);
		rename(tmp, target);
	}
	return NULL;
}

static void fifo_exec(int n, const char *dir)
{
	char fifo[4096], reg[4096], target[4096];
	char *const args[] = { "x", NULL };
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	snprintf(reg, sizeof(reg), "%s/script", dir);
	snprintf(target, sizeof(target), "%s/target", dir);
	mkfifo(fifo, 0755);
	chmod(fifo, 0755);
	int fd = open(reg, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	if (fd >= 0) {
		write(fd, "#!/nonexistent/interpreter\n", 27);
		close(fd);
	}
	execve(fifo, args, NULL); /* EACCES: not a regular file */
	printf("fifo exec: %s\n", strerrorname_np(errno));
	swap_dir = dir;
	pthread_t t;
	pthread_create(&t, NULL, swapper, NULL);
	for (int i = 0; i < n; i++)
		execve(target, args, NULL);
	stop = 1;
	pthread_join(t, NULL);
	printf("fifo: done\n");
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc >= 2 && !strcmp(argv[1], "garbage"))
		garbage();
	else if (argc >= 4 && !strcmp(argv[1], "many"))
		many(atoi(argv[2]), argv[3]);
	else if (argc >= 4 && !strcmp(argv[1], "fifo"))
		fifo_exec(atoi(argv[2]), argv[3]);
	else if (argc >= 5 && !strcmp(argv[1], "race"))
		race(atoi(argv[2]), argv[3], argv[4]);
	else
		return 2;
	return 0;
}
