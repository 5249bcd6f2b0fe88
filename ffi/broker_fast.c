/*
 * The broker's fast path (see struct ll_broker in landlockd.h): a broker
 * thread waits here for seccomp notifications and answers CONTINUE, without
 * a round trip through JavaScript, to an open-family call whose path is
 * absolute, already normalised and under no declared prefix: Landlock
 * decides such a call, so this can never grant access. Every other
 * notification is handed to JavaScript.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

static int is_simple_absolute(const char *p)
{
	if (p[0] != '/')
		return 0;
	for (const char *c = p; *c; c++) {
		if (c[0] != '/')
			continue;
		if (c[1] == '/')
			return 0;
		if (c[1] == '.' && (c[2] == '/' || c[2] == 0))
			return 0;
		if (c[1] == '.' && c[2] == '.' && (c[3] == '/' || c[3] == 0))
			return 0;
	}
	return 1;
}

static int under_prefix(const char *path, const char *prefixes)
{
	for (const char *p = prefixes; *p; p += strlen(p) + 1) {
		size_t n = strlen(p);
		if (strncmp(path, p, n) == 0 &&
		    (path[n] == 0 || path[n] == '/' || (n == 1 && p[0] == '/')))
			return 1;
	}
	return 0;
}

int32_t ll_read_remote_path(int32_t pid, uint64_t addr, char *buf,
			    uint32_t size)
{
	size_t got = 0;
	while (got < size) {
		uint64_t here = addr + got;
		size_t chunk = 4096 - (here & 4095);
		if (chunk > size - got)
			chunk = size - got;
		struct iovec local = { buf + got, chunk };
		struct iovec remote = { (void *)(uintptr_t)here, chunk };
		ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
		if (n <= 0)
			return n < 0 ? -errno : -EFAULT;
		char *nul = memchr(buf + got, 0, n);
		if (nul)
			return (int32_t)(nul - buf);
		got += n;
	}
	return -ENAMETOOLONG;
}

#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

/* SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP once per listener (Linux 6.6+). */
static void broker_sync_wake(struct ll_broker *b)
{
	/*
	 * Wake the broker and the task on the same CPU, handing it over
	 * directly; without it every call pays for waking an idle CPU. Older
	 * kernels say EINVAL and keep the ordinary wake-up.
	 */
	if (!b->sync_wake_tried) {
		b->sync_wake_tried = 1;
		ioctl(b->listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS,
		      SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP);
	}
}

/*
 * Receives one notification from a ready listener: 1 when JavaScript must
 * decide (n holds it), 2 when it was answered here or vanished, -errno.
 */
static int32_t broker_recv(struct ll_broker *b, struct seccomp_notif *n)
{
	char path[LL_BROKER_PATH_SIZE];

	b->path_len = -1;
	memset(n, 0, sizeof(*n));
	if (ioctl(b->listener, SECCOMP_IOCTL_NOTIF_RECV, n) < 0)
		return (errno == ENOENT || errno == EINTR) ? 2 : -errno;
	int arg = -1;
	for (uint32_t i = 0; i < b->n_open; i++) {
		if (b->open_nrs[i] == n->data.nr) {
			arg = b->path_args[i];
			break;
		}
	}
	if (arg < 0)
		return 1;
	ll_watch_begin(b->listener, n->id, b->pidfd, (int32_t)n->pid);
	int32_t len = ll_read_remote_path((int32_t)n->pid, n->data.args[arg],
					  path, sizeof(path));
	ll_watch_end();
	if (len < 0)
		return 1;
	if (!is_simple_absolute(path) || under_prefix(path, b->prefixes)) {
		/* Hand the path over: JavaScript need not read it again. */
		memcpy(b->path_out, path, (size_t)len + 1);
		b->path_len = len;
		return 1;
	}
	struct seccomp_notif_resp r = {
		.id = n->id,
		.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE,
	};
	if (ioctl(b->listener, SECCOMP_IOCTL_NOTIF_SEND, &r) < 0 &&
	    errno != ENOENT)
		return -errno;
	b->continued++;
	return 2;
}

int32_t ll_broker_next(struct ll_broker *b, void *notif_out)
{
	int32_t which;

	return ll_broker_next_any(&b, 1, -1, &notif_out, &which);
}

int32_t ll_broker_next_any(struct ll_broker *const *bs, uint32_t count,
			   int32_t wake_fd, void *const *notifs, int32_t *which)
{
	struct pollfd fds[2 * LL_BROKER_MAX + 1];

	if (count > LL_BROKER_MAX)
		return -EINVAL;
	for (uint32_t i = 0; i < count; i++)
		broker_sync_wake(bs[i]);
	for (;;) {
		for (uint32_t i = 0; i < count; i++) {
			fds[2 * i] = (struct pollfd){
				.fd = bs[i]->listening ? bs[i]->listener : -1,
				.events = POLLIN,
			};
			fds[2 * i + 1] = (struct pollfd){ .fd = bs[i]->pidfd,
							  .events = POLLIN };
		}
		fds[2 * count] = (struct pollfd){ .fd = wake_fd, .events = POLLIN };
		if (poll(fds, 2 * count + 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (fds[2 * count].revents) {
			uint64_t v;
			if (read(wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
				return -errno;
			return 2;
		}
		for (uint32_t i = 0; i < count; i++) {
			struct ll_broker *b = bs[i];
			*which = (int32_t)i;
			if (fds[2 * i + 1].revents)
				return 0;
			if (!(fds[2 * i].revents & POLLIN)) {
				if (fds[2 * i].revents)
					b->listening = 0; /* POLLHUP: wait for the exit */
				continue;
			}
			int32_t r = broker_recv(b, notifs[i]);
			if (r != 2)
				return r;
		}
	}
}
