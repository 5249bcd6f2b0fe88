/*
 * Unix stream sockets for the daemon and its command-line client: the parts
 * Deno cannot do itself (SCM_RIGHTS, peer credentials), and the epoll calls
 * of the daemon's reactor. Every function returns a count or 0 on success,
 * -errno on failure.
 */
#define _GNU_SOURCE
#include "landlockd.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59
#endif

static int32_t unix_address(const char *path, struct sockaddr_un *sa)
{
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, path, len);
	return 0;
}

int32_t ll_sock_listen(const char *path, int32_t backlog)
{
	struct sockaddr_un sa;
	int32_t r = unix_address(path, &sa);

	if (r < 0)
		return r;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, backlog) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

int32_t ll_sock_connect(const char *path)
{
	struct sockaddr_un sa;
	int32_t r = unix_address(path, &sa);

	if (r < 0)
		return r;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	while (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno == EINTR)
			continue;
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

int32_t ll_sock_accept(int32_t fd)
{
	int c;

	while ((c = accept4(fd, NULL, NULL, SOCK_CLOEXEC)) < 0) {
		if (errno != EINTR && errno != ECONNABORTED)
			return -errno;
	}
	return c;
}

int64_t ll_sock_send(int32_t fd, const void *buf, uint64_t len,
		     const int32_t *fds, uint32_t nfds, int32_t flags)
{
	union {
		struct cmsghdr align;
		char bytes[CMSG_SPACE(sizeof(int) * LL_SOCK_MAX_FDS)];
	} control;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (nfds > LL_SOCK_MAX_FDS)
		return -EINVAL;
	if (nfds > 0) {
		memset(&control, 0, sizeof(control));
		msg.msg_control = control.bytes;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
	}
	while ((n = sendmsg(fd, &msg, flags | MSG_NOSIGNAL)) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return n;
}

int64_t ll_sock_recv(int32_t fd, void *buf, uint64_t len, int32_t *fds,
		     int32_t *nfds, int32_t flags)
{
	union {
		struct cmsghdr align;
		char bytes[CMSG_SPACE(sizeof(int) * LL_SOCK_MAX_FDS)];
	} control;
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.bytes,
		.msg_controllen = sizeof(control.bytes),
	};
	ssize_t n;

	*nfds = 0;
	while ((n = recvmsg(fd, &msg, flags | MSG_CMSG_CLOEXEC)) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm;
	     cm = CMSG_NXTHDR(&msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		int count = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		int *got = (int *)CMSG_DATA(cm);
		for (int i = 0; i < count; i++) {
			if (*nfds < LL_SOCK_MAX_FDS)
				fds[(*nfds)++] = got[i];
			else
				close(got[i]);
		}
	}
	/* More fds were sent than fit: they are gone, so say so. */
	if (msg.msg_flags & MSG_CTRUNC) {
		for (int i = 0; i < *nfds; i++)
			close(fds[i]);
		*nfds = 0;
		return -EMSGSIZE;
	}
	return n;
}

int32_t ll_sock_peer(int32_t fd, int32_t *cred, uint32_t *groups,
		     uint32_t max_groups)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0)
		return -errno;
	cred[0] = uc.pid;
	cred[1] = (int32_t)uc.uid;
	cred[2] = (int32_t)uc.gid;
	len = max_groups * sizeof(uint32_t);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0)
		return -errno;
	return (int32_t)(len / sizeof(uint32_t));
}

int32_t ll_poll_ctl(int32_t epfd, int32_t op, int32_t fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.u64 = (uint32_t)fd };

	return epoll_ctl(epfd, op, fd, &ev) < 0 ? -errno : 0;
}

int32_t ll_poll_wait(int32_t epfd, uint32_t *out, uint32_t max,
		     int32_t timeout_ms)
{
	struct epoll_event evs[64];
	int n;

	if (max > 64)
		max = 64;
	while ((n = epoll_wait(epfd, evs, (int)max, timeout_ms)) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	for (int i = 0; i < n; i++) {
		out[2 * i] = (uint32_t)evs[i].data.u64;
		out[2 * i + 1] = evs[i].events;
	}
	return n;
}
