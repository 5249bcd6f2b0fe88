/*
 * A sandboxed program that stalls the broker on purpose (issue 10, item 8):
 * it registers a fresh page with userfaultfd, never fills it, and passes a
 * path that lies in that page to open(2). The broker's read of the path
 * (process_vm_readv) then waits for a fault nobody will resolve.
 *
 * usage: daemonavail_uffd_stall SECONDS
 * Prints "stalling" first, or "no-userfaultfd ERRNO" (exit 2) when the
 * kernel refuses a userfaultfd that handles kernel-mode faults. After
 * SECONDS it gives up and exits 3 (closing the userfaultfd ends the stall).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static void *give_up(void *arg)
{
	sleep((unsigned)(long)arg);
	_exit(3);
}

int main(int argc, char **argv)
{
	long seconds = argc > 1 ? atol(argv[1]) : 20;
	int uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC);
	if (uffd < 0) {
		printf("no-userfaultfd %d\n", errno);
		return 2;
	}
	struct uffdio_api api = { .api = UFFD_API };
	if (ioctl(uffd, UFFDIO_API, &api) < 0) {
		printf("no-userfaultfd %d\n", errno);
		return 2;
	}
	char *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct uffdio_register reg = {
		.range = { .start = (unsigned long)page, .len = 4096 },
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};
	if (page == MAP_FAILED || ioctl(uffd, UFFDIO_REGISTER, &reg) < 0) {
		printf("no-register %d\n", errno);
		return 2;
	}
	pthread_t t;
	pthread_create(&t, NULL, give_up, (void *)seconds);
	printf("stalling\n");
	fflush(stdout);
	open(page, O_RDONLY); /* the path is in the missing page */
	printf("open returned (errno %d)\n", errno);
	return 0;
}
