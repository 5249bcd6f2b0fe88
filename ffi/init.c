/*
 * PID 1 of a new PID namespace and the mount helper it starts.
 *
 * ll_become_init() runs in the sandbox's first process after its mounts
 * (spawn.c, step INIT): it forks the mount helper when asked, then the
 * command, and stays behind as init. The mount helper lives on in the
 * sandbox's namespaces, outside its Landlock domain and seccomp filter,
 * performing the mounts the broker approved; ll_helper_call() is the
 * broker's side of that conversation.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#define LL_MOUNT_ATTR_NOSUID 0x00000002
#define LL_OPEN_TREE_CLONE 1
#define LL_MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#define LL_MOVE_MOUNT_T_EMPTY_PATH 0x00000040
#define LL_FSCONFIG_SET_FLAG 0
#define LL_FSCONFIG_SET_STRING 1
#define LL_FSCONFIG_CMD_CREATE 6
#define LL_RESOLVE_NO_SYMLINKS 0x04

/*
 * The mount helper's paths are as the sandbox names them, in a tree the
 * sandbox may change: each is opened (O_PATH) without following any
 * symlink, so a symlink swapped in for a declared source or target, or for
 * a directory above one, fails with ELOOP instead of redirecting the mount.
 * Mounts are then made through those fds (open_tree, fsmount, move_mount).
 */
struct ll_open_how {
	uint64_t flags, mode, resolve;
};

static int open_nofollow(const char *path)
{
	struct ll_open_how how = { .flags = O_PATH | O_CLOEXEC,
				   .resolve = LL_RESOLVE_NO_SYMLINKS };
	return (int)syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));
}

/* Closes fd, keeping errno. */
static void close_keep(int fd)
{
	int e = errno;
	close(fd);
	errno = e;
}

/* A detached copy of the tree at source (open_tree(OPEN_TREE_CLONE)). */
static int clone_tree(const char *source, uint32_t flags)
{
	int src = open_nofollow(source);
	if (src < 0)
		return -1;
	int tree = (int)syscall(SYS_open_tree, src, "",
				LL_OPEN_TREE_CLONE | O_CLOEXEC | AT_EMPTY_PATH |
					(flags & AT_RECURSIVE));
	close_keep(src);
	return tree;
}

/* Makes a detached mount read-only before anyone can reach it. */
static int make_rdonly(int mnt)
{
	struct ll_mount_attr attr = { .attr_set = LL_MOUNT_ATTR_RDONLY };
	return (int)syscall(SYS_mount_setattr, mnt, "",
			    AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr));
}

/* Attaches the detached mount mnt on target. */
static int attach(int mnt, const char *target)
{
	int dst = open_nofollow(target);
	if (dst < 0)
		return -1;
	int rc = (int)syscall(SYS_move_mount, mnt, "", dst, "",
			      LL_MOVE_MOUNT_F_EMPTY_PATH |
				      LL_MOVE_MOUNT_T_EMPTY_PATH);
	close_keep(dst);
	return rc;
}

/* A tmpfs on target: options "k=v,k" (already checked), nosuid, nodev. */
static int mount_tmpfs(const char *target, uint32_t ms_flags, char *data)
{
	int fs = (int)syscall(SYS_fsopen, "tmpfs", 1 /* FSOPEN_CLOEXEC */);
	if (fs < 0)
		return -1;
	char *save = NULL;
	for (char *opt = strtok_r(data, ",", &save); opt;
	     opt = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(opt, '=');
		if (eq)
			*eq = 0;
		if (syscall(SYS_fsconfig, fs,
			    eq ? LL_FSCONFIG_SET_STRING : LL_FSCONFIG_SET_FLAG,
			    opt, eq ? eq + 1 : NULL, 0) < 0) {
			close_keep(fs);
			return -1;
		}
	}
	if (syscall(SYS_fsconfig, fs, LL_FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
		close_keep(fs);
		return -1;
	}
	uint32_t attrs = LL_MOUNT_ATTR_NOSUID | LL_MOUNT_ATTR_NODEV |
			 (ms_flags & MS_RDONLY ? LL_MOUNT_ATTR_RDONLY : 0) |
			 (ms_flags & MS_NOEXEC ? LL_MOUNT_ATTR_NOEXEC : 0);
	int mnt = (int)syscall(SYS_fsmount, fs, 1 /* FSMOUNT_CLOEXEC */, attrs);
	close_keep(fs);
	if (mnt < 0)
		return -1;
	int rc = attach(mnt, target);
	close_keep(mnt);
	return rc;
}

/* A bind of source on target, read-only from the start when declared so. */
static int bind_tree(const char *source, const char *target, int read_only)
{
	int tree = clone_tree(source, AT_RECURSIVE);
	if (tree < 0)
		return -1;
	int rc = read_only ? make_rdonly(tree) : 0;
	if (rc == 0)
		rc = attach(tree, target);
	close_keep(tree);
	return rc;
}

/* umount2 of target; its path is checked to hold no symlink first. */
static int umount_nofollow(const char *target, uint32_t flags)
{
	int dst = open_nofollow(target);
	if (dst < 0)
		return -1;
	close(dst);
	return umount2(target, (int)(flags & MNT_DETACH) | UMOUNT_NOFOLLOW);
}

/* mount_setattr on target, through an fd. */
static int setattr_nofollow(const char *target, uint32_t flags,
			    struct ll_mount_attr *attr)
{
	int dst = open_nofollow(target);
	if (dst < 0)
		return -1;
	int rc = (int)syscall(SYS_mount_setattr, dst, "",
			      AT_EMPTY_PATH | (flags & AT_RECURSIVE), attr,
			      sizeof(*attr));
	close_keep(dst);
	return rc;
}

/*
 * The mount helper: lives in the sandbox's namespaces, outside its Landlock
 * domain and seccomp filter, and performs the mounts the broker has
 * already approved. It answers one request at a time until the broker
 * hangs up.
 */
static __attribute__((noreturn)) void mount_helper(int sock)
{
	static struct ll_mount_req r; /* own copy of memory: not shared */
	for (;;) {
		union {
			char buf[CMSG_SPACE(sizeof(int))];
			struct cmsghdr align;
		} control;
		struct iovec iov = { .iov_base = &r, .iov_len = sizeof(r) };
		struct msghdr mh = { .msg_iov = &iov,
				     .msg_iovlen = 1,
				     .msg_control = control.buf,
				     .msg_controllen = sizeof(control.buf) };
		ssize_t n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
		if (n <= 0)
			_exit(0);
		int in_fd = -1, out_fd = -1;
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		if (cm && cm->cmsg_type == SCM_RIGHTS)
			memcpy(&in_fd, CMSG_DATA(cm), sizeof(int));
		int err = 0;
		r.source[sizeof(r.source) - 1] = 0;
		r.target[sizeof(r.target) - 1] = 0;
		r.data[sizeof(r.data) - 1] = 0;
		struct ll_mount_attr attr = { 0 };
		long rc = 0;
		if (n != (ssize_t)sizeof(r)) {
			err = EINVAL;
		} else {
			switch (r.op) {
			case LL_REQ_TMPFS:
				rc = mount_tmpfs(r.target, r.flags, r.data);
				break;
			case LL_REQ_BIND:
				rc = bind_tree(r.source, r.target, r.read_only);
				break;
			case LL_REQ_UMOUNT:
				rc = umount_nofollow(r.target, r.flags);
				break;
			case LL_REQ_OPEN_TREE:
				rc = out_fd = clone_tree(r.source, r.flags);
				break;
			case LL_REQ_MOVE_MOUNT:
				rc = r.read_only ? make_rdonly(in_fd) : 0;
				if (rc == 0)
					rc = attach(in_fd, r.target);
				break;
			case LL_REQ_FSOPEN:
				rc = out_fd = (int)syscall(SYS_fsopen, r.source,
							   1 /* FSOPEN_CLOEXEC */);
				break;
			case LL_REQ_FSCONFIG:
				rc = syscall(SYS_fsconfig, in_fd, r.flags,
					     r.source[0] ? r.source : NULL,
					     r.data[0] ? r.data : NULL, 0);
				break;
			case LL_REQ_FSMOUNT:
				rc = out_fd = (int)syscall(SYS_fsmount, in_fd,
							   1 /* FSMOUNT_CLOEXEC */, r.flags);
				break;
			case LL_REQ_SETATTR:
				attr.attr_set = r.read_only;
				attr.attr_clr = r.attr_clr;
				rc = setattr_nofollow(r.target, r.flags, &attr);
				break;
			default:
				rc = -1;
				errno = EINVAL;
			}
			if (rc < 0)
				err = errno;
		}
		if (in_fd >= 0)
			close(in_fd);
		int32_t reply = -err;
		ll_send_report(sock, reply, 0, 0, 0, err ? -1 : out_fd);
		if (out_fd >= 0)
			close(out_fd);
	}
}

/*
 * PID 1 of a new PID namespace: starts the command as its child, passes
 * on the signals landlockd forwards, reaps every orphan, and exits with
 * the command's status (128 + N if a signal killed it).
 */
void ll_become_init(const struct child_ctx *c)
{
	sigset_t all;
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	struct ll_clone_args a = { .exit_signal = SIGCHLD };
	if (c->helper_fd >= 0) {
		long helper = syscall(SYS_clone3, &a, sizeof(a));
		if (helper < 0)
			ll_fail(c, LL_STEP_INIT, errno);
		if (helper == 0) {
			/* Keep only the helper's socket, as fd 3. */
			if (dup2(c->helper_fd, 3) < 0)
				_exit(1);
			syscall(SYS_close_range, 4, ~0U, 0);
			syscall(SYS_close_range, 0, 2, 0);
			if (ll_resolve_as_client(c->req))
				_exit(1);
			mount_helper(3);
		}
		close(c->helper_fd);
	}
	long command = syscall(SYS_clone3, &a, sizeof(a));
	if (command < 0)
		ll_fail(c, LL_STEP_INIT, errno);
	if (command == 0) {
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		return; /* the command's side: back to spawn.c, on to exec */
	}
	syscall(SYS_close_range, 3, ~0U, 0);
	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(&all, &si);
		if (sig < 0)
			continue;
		if (sig != SIGCHLD) {
			kill((pid_t)command, sig);
			continue;
		}
		int status;
		pid_t p;
		while ((p = waitpid(-1, &status, WNOHANG)) > 0) {
			if (p != command)
				continue;
			_exit(WIFEXITED(status) ? WEXITSTATUS(status) :
						  128 + WTERMSIG(status));
		}
	}
}

int32_t ll_helper_call(int32_t sock, const void *req, uint32_t len,
		       int32_t send_fd, int32_t *recv_fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	*recv_fd = -1;
	if (ll_send_with_fd(sock, req, len, send_fd) != (ssize_t)len)
		return -EPIPE;
	/* The reply is a report message: {reply, 0, 0, 0} and maybe an fd. */
	int32_t msg[4];
	struct iovec riov = { .iov_base = msg, .iov_len = sizeof(msg) };
	struct msghdr rh = { .msg_iov = &riov,
			     .msg_iovlen = 1,
			     .msg_control = control.buf,
			     .msg_controllen = sizeof(control.buf) };
	ssize_t n;
	while ((n = recvmsg(sock, &rh, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
		;
	if (n != (ssize_t)sizeof(msg))
		return -EPIPE;
	struct cmsghdr *cm = CMSG_FIRSTHDR(&rh);
	if (cm && cm->cmsg_type == SCM_RIGHTS)
		memcpy(recv_fd, CMSG_DATA(cm), sizeof(int));
	return msg[0];
}
