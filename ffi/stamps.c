/*
 * The bundle's freshness check (lazy_import.ts freshBundle) in one call:
 * about 120 files compared with the stamps dist/run/manifest.json recorded,
 * where Deno.statSync costs 10-25 us each in a fresh process.
 *
 * The request is a list of entries, each 8-byte aligned, their paths
 * relative to `root` (a directory):
 *   double size, ino, mtime_ms, ctime_ms;  what the file must still have
 *   uint32_t flags;                        LL_STAMP_*
 *   uint32_t path_len;                     bytes of the path, its NUL too
 *   char path[path_len];                   then zeros to the next 8 bytes
 * The times are in Deno's units (Deno.FileInfo): mtime in milliseconds,
 * truncated; ctime in whole seconds, times 1000. Doubles, as Deno gives
 * them, so a number read from the manifest compares exactly.
 */
#define _GNU_SOURCE
#include "landlockd.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct stamp_head {
	double size;
	double ino;
	double mtime_ms;
	double ctime_ms;
	uint32_t flags;
	uint32_t path_len;
};

_Static_assert(sizeof(struct stamp_head) == LL_STAMP_HEAD_SIZE,
	       "ffi/library.ts STAMP_HEAD_SIZE");

/* The file is one of the bundle's: see lazy_import.ts ownBundleFile. */
static int own_bundle_file(const struct stat *st)
{
	return !S_ISLNK(st->st_mode) &&
	       (st->st_uid == 0 || st->st_uid == getuid()) &&
	       (st->st_mode & 022) == 0;
}

static int stamp_matches(const struct stamp_head *h, const struct stat *st)
{
	int64_t mtime = (int64_t)st->st_mtim.tv_sec * 1000 +
			st->st_mtim.tv_nsec / 1000000;
	int64_t ctime = (int64_t)st->st_ctim.tv_sec * 1000;

	return h->size == (double)st->st_size && h->ino == (double)st->st_ino &&
	       h->mtime_ms == (double)mtime && h->ctime_ms == (double)ctime;
}

static int32_t check_all(int dir, const uint8_t *req, uint32_t len)
{
	uint32_t at = 0;

	for (int32_t i = 1; at < len; i++) {
		struct stamp_head h;
		struct stat st;

		if (len - at < sizeof(h))
			return -EINVAL;
		memcpy(&h, req + at, sizeof(h));
		at += sizeof(h);
		if (h.path_len == 0 || h.path_len > len - at ||
		    req[at + h.path_len - 1] != 0 ||
		    memchr(req + at, 0, h.path_len) != req + at + h.path_len - 1)
			return -EINVAL;
		const char *path = (const char *)(req + at);
		at += (h.path_len + 7) & ~7u;
		if (h.flags & ~(uint32_t)(LL_STAMP_OWN | LL_STAMP_OWN_ONLY))
			return -EINVAL;
		int nofollow = h.flags & (LL_STAMP_OWN | LL_STAMP_OWN_ONLY);
		if (fstatat(dir, path, &st,
			    nofollow ? AT_SYMLINK_NOFOLLOW : 0) < 0)
			return i;
		if (nofollow && !own_bundle_file(&st))
			return i;
		if (!(h.flags & LL_STAMP_OWN_ONLY) && !stamp_matches(&h, &st))
			return i;
		if (at > len)
			return -EINVAL;
	}
	return 0;
}

int32_t ll_stamps_check(const char *root, const uint8_t *req, uint32_t len)
{
	int dir = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (dir < 0)
		return 1; /* the first file is gone with its folder */
	int32_t r = check_all(dir, req, len);
	close(dir);
	return r;
}
