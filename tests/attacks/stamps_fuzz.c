/*
 * Feeds ll_stamps_check (ffi/stamps.c) malformed and random requests,
 * each in a heap buffer of exactly its length, built with AddressSanitizer
 * and UBSan (tests/attacks/stamps_fuzz_test.ts): a read past the request
 * or an overflow aborts. Every answer must be -EINVAL, 0 (all match) or the
 * 1-based index of an entry; a crafted case must give what it names.
 *
 * Usage: stamps_fuzz ROOT ITERATIONS   (ROOT: a folder holding a file "f")
 * Prints "ok N" after N random requests.
 */
#include "landlockd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct head {
	double size, ino, mtime_ms, ctime_ms;
	uint32_t flags, path_len;
};

static int failures;

/* Appends one entry to buf at *at; returns the new end. */
static size_t put(uint8_t *buf, size_t at, uint32_t flags, const char *path,
		  uint32_t path_len, const struct stat *st)
{
	struct head h = { -1, -1, -1, -1, flags, path_len };

	if (st) {
		h.size = (double)st->st_size;
		h.ino = (double)st->st_ino;
		h.mtime_ms = (double)(st->st_mtim.tv_sec * 1000 +
				      st->st_mtim.tv_nsec / 1000000);
		h.ctime_ms = (double)(st->st_ctim.tv_sec * 1000);
	}
	memcpy(buf + at, &h, sizeof(h));
	at += sizeof(h);
	size_t n = strlen(path) + 1;
	memcpy(buf + at, path, n);
	return at + ((n + 7) & ~(size_t)7);
}

/* Calls the check on an exact copy of req[0..len). */
static int32_t call(const char *root, const uint8_t *req, uint32_t len)
{
	uint8_t *copy = malloc(len ? len : 1);

	if (!copy)
		abort();
	memcpy(copy, req, len);
	int32_t r = ll_stamps_check(root, copy, len);
	free(copy);
	return r;
}

static void expect(const char *what, int32_t got, int32_t want)
{
	if (got != want) {
		fprintf(stderr, "%s: %d, expected %d\n", what, got, want);
		failures++;
	}
}

int main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	const char *root = argv[1];
	long iterations = atol(argv[2]);
	char path[4096];
	struct stat st;

	snprintf(path, sizeof(path), "%s/f", root);
	if (stat(path, &st) < 0)
		return 2;

	uint8_t good[256] = { 0 };
	size_t n = put(good, 0, 0, "f", 2, &st);
	n = put(good, n, 0, "./f", 4, &st);
	expect("two good entries", call(root, good, (uint32_t)n), 0);
	expect("an empty request", call(root, good, 0), 0);
	for (uint32_t cut = 1; cut < n; cut++) {
		/* Every cut but the one between the entries is malformed. */
		int32_t r = call(root, good, cut);
		if (cut == 48)
			expect("cut between entries", r, 0);
		else
			expect("a cut request", r, -EINVAL);
	}

	uint8_t bad[256];
	struct head *h = (struct head *)bad;
	/* path_len 0, past the end, huge, missing NUL, inner NUL. */
	const uint32_t lens[] = { 0, 9, 200, 0x7fffffff, 0xffffffff,
				  0xfffffff9 };
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		memcpy(bad, good, n);
		h->path_len = lens[i];
		expect("a bad path_len", call(root, bad, (uint32_t)n), -EINVAL);
	}
	memcpy(bad, good, n);
	bad[sizeof(struct head) + 1] = 'x'; /* "fx", no NUL in its length */
	expect("no NUL", call(root, bad, (uint32_t)n), -EINVAL);
	memset(bad, 0, sizeof(bad));
	size_t m = put(bad, 0, 0, "f\0g", 4, &st);
	memcpy(bad + sizeof(struct head), "f\0g", 4);
	expect("an inner NUL", call(root, bad, (uint32_t)m), -EINVAL);
	memcpy(bad, good, n);
	h->flags = 4;
	expect("an unknown flag", call(root, bad, (uint32_t)n), -EINVAL);

	/* Paths that leave ROOT are only stamped, never followed as bundle
	 * files: a wrong stamp or a missing file is entry 1. */
	memset(bad, 0, sizeof(bad));
	m = put(bad, 0, 0, "../../../../../../etc/passwd", 29, &st);
	expect("a path with ..", call(root, bad, (uint32_t)m), 1);
	memset(bad, 0, sizeof(bad));
	m = put(bad, 0, 1, "/nonexistent/x", 15, NULL);
	expect("an absolute path", call(root, bad, (uint32_t)m), 1);
	memset(bad, 0, sizeof(bad));
	m = put(bad, 0, 0, "f", 2, NULL);
	((struct head *)bad)->size = __builtin_nan("");
	expect("a NaN stamp", call(root, bad, (uint32_t)m), 1);
	expect("a missing root", call("/nonexistent", good, (uint32_t)n), 1);

	/* Random bytes and random mutations of the good request. */
	srandom(1);
	uint8_t buf[512];
	for (long i = 0; i < iterations; i++) {
		uint32_t len;
		if (i & 1) {
			len = (uint32_t)(random() % sizeof(buf));
			for (uint32_t j = 0; j < len; j++)
				buf[j] = (uint8_t)random();
		} else {
			memcpy(buf, good, n);
			len = (uint32_t)n;
			int flips = 1 + (int)(random() % 4);
			for (int k = 0; k < flips; k++)
				buf[random() % n] = (uint8_t)random();
			if (random() % 4 == 0)
				len = (uint32_t)(random() % (n + 1));
		}
		int32_t r = call(root, buf, len);
		if (!(r == -EINVAL || (r >= 0 && r <= 12))) {
			fprintf(stderr, "random request %ld: %d\n", i, r);
			failures++;
		}
	}
	if (failures)
		return 1;
	printf("ok %ld\n", iterations);
	return 0;
}
