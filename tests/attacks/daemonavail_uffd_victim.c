/*
 * Another run's brokered opens, timed (issue 10, item 8): opens PATH N
 * times and prints "first_us F max_us M median_us D": the first open (which
 * also waits for its broker to start serving), the slowest and the median
 * of the others, in microseconds.
 *
 * usage: daemonavail_uffd_victim PATH N
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static long long now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static int cmp(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	int n = argc > 2 ? atoi(argv[2]) : 20;
	long long max = 0, first = 0;
	long long *all = calloc(n > 1 ? n : 1, sizeof(*all));
	int count = 0;
	for (int i = 0; i < n; i++) {
		long long t = now_us();
		int fd = open(argv[1], O_RDONLY);
		long long d = now_us() - t;
		if (fd < 0) {
			perror(argv[1]);
			return 1;
		}
		close(fd);
		if (i == 0)
			first = d;
		else {
			all[count++] = d;
			if (d > max)
				max = d;
		}
	}
	qsort(all, count, sizeof(*all), cmp);
	printf("first_us %lld max_us %lld median_us %lld\n", first, max,
	       count ? all[count / 2] : 0);
	return 0;
}
